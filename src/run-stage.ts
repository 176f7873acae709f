import { DistillDocument } from './document.js';
import { loadInput, type DocumentInput } from './loaders/index.js';
import { runStages } from './runner.js';
import type { Stage, StageContext } from './stage.js';
import { o200k } from './tokens.js';

/**
 * Run one stage (or a few) on one in-memory document, with no pipeline
 * around it: the way to embed a single stage in an ETL job. The document
 * gets the same metrics and error capture as in a full run.
 *
 * @example
 * const doc = await runStage(filterBoilerplate(), { id: 'mail-1', text: raw, format: 'email' });
 * console.log(doc.value, doc.stages[0].tokensIn, doc.stages[0].tokensOut);
 */
export async function runStage(
  stage: Stage | readonly Stage[],
  input: DocumentInput | DistillDocument,
  context: Partial<StageContext> = {},
): Promise<DistillDocument> {
  const doc = input instanceof DistillDocument ? input : await loadInput(input);
  const fullContext: StageContext = { task: '', model: 'gpt-4o', tokenizer: o200k, ...context };
  return runStages(doc, { stages: Array.isArray(stage) ? stage : [stage as Stage], context: fullContext });
}
