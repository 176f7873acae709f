import { DistillDocument } from './document.js';
import { StageError, DistillError } from './errors.js';
import { syncSpans } from './spans/trace.js';
import type { Stage, StageContext } from './stage.js';

/**
 * The runner owns the cross-cutting work so no stage repeats it: token
 * counts before and after each stage, timing, bounded concurrency, and the
 * boundary where any throw becomes that one document's error.
 */

export interface StageEvent {
  doc: DistillDocument;
  stage: string;
  tokensIn: number;
  tokensOut: number;
  /** Characters of text the stage received, for throughput figures. */
  charsIn: number;
  ms: number;
  /** When the stage ended, in epoch milliseconds (`performance.timeOrigin + performance.now()`), comparable across threads. */
  endedAt: number;
}

export interface RunDocumentsOptions {
  stages: readonly Stage[];
  context: StageContext;
  /** Documents in flight at once. @default 4 */
  concurrency?: number;
  /** Called after each stage of each document, for progress and the caller's own logging. */
  onStage?: (event: StageEvent) => void;
}

/** Run every stage over one document, in order. Never throws. */
export async function runStages(doc: DistillDocument, options: Pick<RunDocumentsOptions, 'stages' | 'context' | 'onStage'>): Promise<DistillDocument> {
  const { stages, context } = options;
  let counted = doc.value;
  let tokens = context.tokenizer.count(counted);
  // The record reports tokens as loaded; when nothing has touched the text yet, this count is that figure.
  if (doc.value === doc.original) doc.data.originalTokens = tokens;
  const count = (text: string) => {
    // Most stages leave most documents as they were: count a text once.
    if (text !== counted) {
      counted = text;
      tokens = context.tokenizer.count(text);
    }
    return tokens;
  };

  for (const stage of stages) {
    const tokensIn = count(doc.value);
    const charsIn = doc.value.length;
    if (!doc.active) {
      doc.stages.push({ stage: stage.name, tokensIn, tokensOut: tokensIn, ms: 0, skipped: true });
      continue;
    }
    const started = performance.now();
    try {
      const returned = await stage.run(doc, context);
      if (returned instanceof DistillDocument && returned !== doc) doc = returned;
    } catch (error) {
      const wrapped = error instanceof DistillError ? error : new StageError(stage.name, error);
      doc.fail(wrapped.message, `${stage.name}:${wrapped instanceof StageError ? 'crash' : 'error'}`, {
        code: wrapped.code,
        ...(wrapped.fix ? { fix: wrapped.fix } : {}),
      });
      doc.data.errorStack = wrapped.stack;
    }
    const ms = performance.now() - started;
    if (doc.data.spans || doc.data.spanHints) syncSpans(doc, stage.name);
    const tokensOut = count(doc.value);
    const metric = { stage: stage.name, tokensIn, tokensOut, ms: Math.round(ms * 10) / 10 };
    const rules = doc.data.ruleSavings;
    delete doc.data.ruleSavings;
    doc.stages.push(rules && rules.length > 0 ? { ...metric, rules } : metric);
    options.onStage?.({ doc, stage: stage.name, tokensIn, tokensOut, charsIn, ms, endedAt: performance.timeOrigin + performance.now() });
  }
  return doc;
}

/**
 * Stream items through `load` and then the stages, at most `concurrency` in
 * flight (loading included, so a slow PDF does not hold up the rest),
 * yielding each document as soon as it and every one before it are done:
 * output order is input order, and memory stays flat on any corpus size.
 */
export async function* runDocuments<Item>(
  inputs: Iterable<Item> | AsyncIterable<Item>,
  load: (item: Item) => Promise<DistillDocument>,
  options: RunDocumentsOptions,
): AsyncGenerator<DistillDocument> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`Expected \`concurrency\` to be a positive integer, got \`${concurrency}\`.`);
  }
  const inFlight: Promise<DistillDocument>[] = [];
  const start = async (item: Item) => runStages(await load(item), options);

  for await (const item of inputs) {
    // After an abort, finish what is in flight but take nothing new.
    if (options.context.signal?.aborted) break;
    const running = start(item);
    // Rejections surface when this promise is awaited in order; until then, do not report them as unhandled.
    running.catch(() => {});
    inFlight.push(running);
    if (inFlight.length >= concurrency) yield await inFlight.shift()!;
  }
  while (inFlight.length > 0) yield await inFlight.shift()!;
}
