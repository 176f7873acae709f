/**
 * Stage names alone, without their modules: the CLI reads these for help
 * and validation without loading the model runtime, compromise or the SDK.
 */

/** The local stages, the ones `--stages` chooses from, in pipeline order; `llm` always runs last. */
export const localStageNames = ['regex', 'entities', 'classify', 'sections'] as const;

export type LocalStageName = (typeof localStageNames)[number];

export const stageNames = [...localStageNames, 'llm'] as const;

export type StageName = (typeof stageNames)[number];

export function isStageName(name: string): name is StageName {
  return (stageNames as readonly string[]).includes(name);
}
