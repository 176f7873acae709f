import type { Stage } from '../src/stage.js';
import type { StageName } from './names.js';
import { classifySections, type ClassifySectionsOptions } from './classify.js';
import { extractEntities, type ExtractEntitiesOptions } from './entities.js';
import { callModel, type CallModelOptions } from './llm.js';
import { filterBoilerplate, type FilterBoilerplateOptions } from './regex.js';
import { selectSections, type SelectSectionsOptions } from './sections.js';

/** Every stage by name, in pipeline order (after vitest's reporter registry). */
export const stageFactories = {
  regex: filterBoilerplate,
  entities: extractEntities,
  classify: classifySections,
  sections: selectSections,
  llm: callModel,
} as const;

/** Each stage name's options type, so config and CLI options are checked per stage. */
export interface StageOptionsMap {
  regex: FilterBoilerplateOptions;
  entities: ExtractEntitiesOptions;
  classify: ClassifySectionsOptions;
  sections: SelectSectionsOptions;
  llm: CallModelOptions;
}

export { isStageName, localStageNames, stageNames, type StageName } from './names.js';

export function createStage<Name extends StageName>(name: Name, options?: StageOptionsMap[Name]): Stage {
  const factory = stageFactories[name] as (options?: StageOptionsMap[Name]) => Stage;
  return factory(options);
}

export { callModel, classifySections, extractEntities, filterBoilerplate, selectSections };
export type { CallModelOptions, ClassifySectionsOptions, ExtractEntitiesOptions, FilterBoilerplateOptions, SelectSectionsOptions };
