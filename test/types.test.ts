import { describe, expectTypeOf, it } from 'vitest';
import {
  createPipeline,
  createStage,
  filterBoilerplate,
  selectSections,
  type DistillRecord,
  type PipelineOptions,
  type StageOptionsMap,
  type Stage,
} from '../src/index.js';

/**
 * Type tests: `npm test` type-checks this file (tsc --noEmit) before vitest
 * runs it, so each `@ts-expect-error` below fails the build if the option
 * types ever stop rejecting that mistake.
 */
describe('types', () => {
  it('types the pipeline options and records', () => {
    expectTypeOf(createPipeline).parameter(0).toEqualTypeOf<PipelineOptions>();
    expectTypeOf<ReturnType<ReturnType<typeof createPipeline>['process']>>().toEqualTypeOf<Promise<DistillRecord>>();
    expectTypeOf<DistillRecord['status']>().toEqualTypeOf<'ok' | 'skipped' | 'error'>();
    expectTypeOf<DistillRecord['tokens']>().toEqualTypeOf<{ original: number; distilled: number }>();
  });

  it('rejects misspelt or mistyped options at compile time', () => {
    const check = (options: PipelineOptions) => options;
    // @ts-expect-error budget is a number of tokens
    check({ task: 'x', budget: '500' });
    // @ts-expect-error stages are the local stage names only
    check({ task: 'x', stages: ['regex', 'llm'] });
    // @ts-expect-error task is required
    check({ budget: 10 });
    // @ts-expect-error regex options are checked per stage
    check({ task: 'x', regex: { disable: 3 } });
    expectTypeOf(check).toBeFunction();
  });

  it('gives every stage factory its own options type', () => {
    expectTypeOf(filterBoilerplate).parameter(0).toEqualTypeOf<StageOptionsMap['regex'] | undefined>();
    expectTypeOf(selectSections).parameter(0).toEqualTypeOf<StageOptionsMap['sections'] | undefined>();
    expectTypeOf(createStage<'sections'>).parameter(1).toEqualTypeOf<StageOptionsMap['sections'] | undefined>();
    expectTypeOf(filterBoilerplate()).toMatchTypeOf<Stage>();
    const unknownStage = () =>
      // @ts-expect-error a stage name that does not exist
      createStage('summarise');
    expectTypeOf(unknownStage).toBeFunction();
  });
});
