import { DistillDocument } from './document.js';
import { isDeepStrictEqual } from 'node:util';
import { enforceBudget } from './budget.js';
import { invalidOption, OptionError } from './errors.js';
import { checkOptions, formatValue, llmShortcuts, pipelineOptionsSchema } from './options.js';
import { LocalThreads, type LocalThreadsSetup } from './local-threads.js';
import { loadFile, loadInput, type DocumentInput, type LoadOptions, type PathInput } from './loaders/index.js';
import type { ModelPrice } from './pricing.js';
import { toRecord, type DistillRecord } from './record.js';
import { runDocuments, runStages, type StageEvent } from './runner.js';
import { startTrace, syncSpans } from './spans/trace.js';
import type { Stage, StageContext } from './stage.js';
import { o200k, type Tokenizer } from './tokens.js';
import { Turnstile } from './turnstile.js';
import { createStage, localStageNames, type StageName, type StageOptionsMap } from '../stages/index.js';
import type { CallModelOptions } from '../stages/llm.js';
import type { LocalStageName } from '../stages/names.js';

export type { LocalStageName, PathInput };

/** What `run` and `process` accept: in-memory text or bytes, a file path, or a document already built. */
export type PipelineInput = DocumentInput | PathInput | DistillDocument;

/**
 * The options of the library, the config file and the CLI, as one typed
 * object, checked by one schema (`src/options.ts`): a bad value or an
 * unknown key throws an `OptionError` (a `TypeError`) that names it, and
 * for a typo the nearest valid name.
 *
 * The config file has the same shape (it cannot hold `tokenizer`,
 * `onStage` or `signal`, and it may add `out`). The llm stage's options go
 * in `llm`, as in the config file; the ones that have a flag (`maxTokens`,
 * `rpm`, `tpm`, `maxRetries`, `maxCost`, `cache`, `batch`, `route`) may be
 * given at the top level instead. Giving one in both places with different
 * values is an error, never a silent choice.
 * @example
 * const pipeline = createPipeline({ task: 'What did it cost?', budget: 500, dryRun: true, llm: { maxCost: 1, cache: false } });
 */
export interface PipelineOptions {
  /** The instruction for GPT-4o; section selection scores against it too. */
  task: string;
  /**
   * Token budget of each distilled document (o200k, exact, never exceeded,
   * whatever `stages` holds). The sections stage fills it by relevance;
   * without that stage, a document over it is cut after the last whole
   * sentence that fits, with a `budget:cut` message.
   */
  budget?: number;
  /** The chat model, for the request and the prices (the same as `llm.model`). @default 'gpt-4o' */
  model?: string;
  /** The local stages to run, always in pipeline order. @default ['regex', 'entities', 'classify', 'sections'] */
  stages?: readonly LocalStageName[];
  /** Files larger than this many bytes are skipped unread, with a reason (`--max-bytes`). @default 50_000_000 (50 MB) */
  maxBytes?: number;
  /**
   * The llm stage, run after the local ones: `false` leaves it out, an
   * object gives its options (and keeps it on). With no API key it runs dry.
   * @default true
   */
  llm?: boolean | CallModelOptions;
  /** Show the request that would be sent, send nothing (the same as `llm.dryRun`). @default false */
  dryRun?: boolean;
  /** Documents in flight at once. @default 4, and at least twice `threads` */
  concurrency?: number;
  /**
   * Worker threads that run the local stages, a whole document each at a
   * time; `1` runs them in the calling thread. More threads use more cores
   * (one per core is the fast setting). Needs stage options that can be
   * copied to a thread (no injected backends or classifiers) and the
   * default tokenizer. With run-wide dedupe (`sections.dedupe: 'run'`, the
   * default) the sections stage runs in the calling thread, over one document
   * at a time in input order, so the output does not depend on the thread
   * count; the stages before it run on the threads.
   * @default 1
   */
  threads?: number;
  /** Per-million-token prices that override or extend the built-in table (the same as `llm.prices`). */
  prices?: Record<string, ModelPrice>;
  /** @default o200k_base (tiktoken) */
  tokenizer?: Tokenizer;
  regex?: StageOptionsMap['regex'];
  entities?: StageOptionsMap['entities'];
  classify?: StageOptionsMap['classify'];
  sections?: StageOptionsMap['sections'];
  /** `llm.maxTokens`, at the top level (`--max-tokens`). */
  maxTokens?: CallModelOptions['maxTokens'];
  /** `llm.rpm`, at the top level (`--rpm`). */
  rpm?: CallModelOptions['rpm'];
  /** `llm.tpm`, at the top level (`--tpm`). */
  tpm?: CallModelOptions['tpm'];
  /** `llm.maxRetries`, at the top level (`--max-retries`). */
  maxRetries?: CallModelOptions['maxRetries'];
  /** `llm.maxCost`, at the top level (`--max-cost`). */
  maxCost?: CallModelOptions['maxCost'];
  /** `llm.cache`, at the top level (`--cache`, `--no-cache`). */
  cache?: CallModelOptions['cache'];
  /** `llm.batch`, at the top level (`--batch`). */
  batch?: CallModelOptions['batch'];
  /** `llm.route`, at the top level (`--route`). */
  route?: CallModelOptions['route'];
  /**
   * Capture span provenance: each record gets `spans`, the document as
   * loaded and, for every part removed, what removed it (the regex rule,
   * the classifier label, "not selected (score …)", "over budget"). The
   * HTML report's document view is drawn from it (`--report` turns it on,
   * `--spans` alone). Off, records do not grow.
   * @default false
   */
  spans?: boolean;
  /**
   * Tags for every document of the run (`--tag key=value`), so the report
   * can group tokens and dollars by them (per feature, per user, per
   * outcome). A document's own tags (`tags` on an input, a JSONL line's
   * `tags`, the CLI's `folder`) win on the same key. They go into each
   * record's `tags`.
   * @example { feature: 'search', team: 'growth' }
   */
  tags?: Record<string, string>;
  /** Called after every stage of every document. */
  onStage?: (event: StageEvent) => void;
  /** Aborting stops reading new documents and sending new requests; requests already on the wire finish and are cached. */
  signal?: AbortSignal;
}

export interface Pipeline {
  readonly stages: readonly Stage[];
  readonly context: StageContext;
  /** Stream records for any number of documents, in input order, with bounded memory. */
  run(inputs: Iterable<PipelineInput> | AsyncIterable<PipelineInput>): AsyncGenerator<DistillRecord>;
  /** Distil one document. */
  process(input: PipelineInput): Promise<DistillRecord>;
  /** Load an input into a document (never throws: a bad input becomes an `error` document). */
  load(input: PipelineInput): Promise<DistillDocument>;
  /** The record of a document that has been through the stages. */
  record(doc: DistillDocument): DistillRecord;
  /** Load every stage's heavy parts (the classifier model) now; rejects with the first failure, such as a ModelLoadError. */
  ready(): Promise<void>;
  /** Release workers, models and connections. */
  close(): Promise<void>;
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const resolved = resolveOptions(options);
  const { model, llm, prices } = resolved;
  const tokenizer = options.tokenizer ?? o200k;
  const context: StageContext = {
    task: options.task,
    model,
    tokenizer,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const chosen = new Set<StageName>(options.stages ?? localStageNames);
  const localNames: LocalStageName[] = localStageNames.filter((name) => chosen.has(name));
  const localStages = localNames.map((name) => createStage(name, options[name]));
  const llmStages = llm ? [createStage('llm', llm)] : [];
  const stages = [...localStages, ...llmStages];
  // From the first stage that depends on the documents before it (run-wide dedupe), the local stages run here, one
  // document at a time in input order; the stages before it run concurrently (on threads, when asked).
  const firstOrdered = localStages.findIndex((stage) => stage.ordered === true);
  const split = firstOrdered === -1 ? localStages.length : firstOrdered;
  const [freeStages, orderedStages] = [localStages.slice(0, split), localStages.slice(split)];
  const threads = options.threads ?? 1;
  const pool =
    threads > 1 && split > 0
      ? new LocalThreads({ size: threads, stages: localNames.slice(0, split), options: threadOptions(options), context: { task: options.task, model, ...(options.budget === undefined ? {} : { budget: options.budget }) } })
      : undefined;
  const onStage = options.onStage;
  const runFree = pool
    ? (doc: DistillDocument) => pool.run(doc, onStage)
    : (doc: DistillDocument) => runStages(doc, { stages: freeStages, context, ...(onStage ? { onStage } : {}) });
  const turnstile = new Turnstile();
  const runOrdered = (doc: DistillDocument) => runStages(doc, { stages: orderedStages, context, ...(onStage ? { onStage } : {}) });
  // The budget is the pipeline's promise, whatever stages ran: checked here, between the local stages and the model.
  const budget = resolved.budget;
  const keepBudget = (doc: DistillDocument) => {
    if (budget === undefined) return doc;
    if (enforceBudget(doc, budget, tokenizer, onStage && ((tokensIn, tokensOut, ms) => onStage({ doc, stage: 'budget', tokensIn, tokensOut, charsIn: doc.value.length, ms, endedAt: performance.timeOrigin + performance.now() })))) {
      syncSpans(doc, 'over budget (budget:cut)');
    }
    return doc;
  };
  // The main thread runs only what must be shared by the whole run: the model calls.
  const runOptions = {
    stages: llmStages,
    context,
    concurrency: Math.max(options.concurrency ?? 4, 2 * threads),
    ...(onStage ? { onStage } : {}),
  };
  const loadOptions: LoadOptions = options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
  const load = async (input: PipelineInput) => {
    const doc = await loadPipelineInput(input, loadOptions);
    // A document's own tags say more than the run's: they win on the same key.
    if (options.tags) doc.tags = { ...options.tags, ...doc.tags };
    if (options.spans && doc.active && !doc.data.spans) doc.data.spans = startTrace(doc.original);
    return doc;
  };
  const prepare = async (input: PipelineInput) => {
    if (orderedStages.length === 0) return keepBudget(await runFree(await load(input)));
    // The turn is taken before the first await: `runDocuments` and `process` call this in input order.
    const turn = turnstile.take();
    try {
      const doc = await runFree(await load(input));
      return keepBudget(await turn.run(() => runOrdered(doc)));
    } finally {
      turn.end();
    }
  };
  const recordOptions = { task: options.task, model, tokenizer, ...(prices ? { prices } : {}) };
  const record = (doc: DistillDocument) => toRecord(doc, recordOptions);

  return {
    stages,
    context,
    load,
    record,
    async *run(inputs) {
      for await (const doc of runDocuments(inputs, prepare, runOptions)) yield record(doc);
    },
    async process(input) {
      return record(await runStages(await prepare(input), runOptions));
    },
    async ready() {
      if (pool) await pool.load();
      for (const stage of pool ? [...orderedStages, ...llmStages] : stages) await stage.load?.();
    },
    async close() {
      await Promise.all([pool?.close(), ...stages.map((stage) => stage.close?.())]);
    },
  };
}

interface ResolvedOptions {
  model: string;
  /** The llm stage's options, top-level shortcuts merged in; undefined when `llm: false`. */
  llm: CallModelOptions | undefined;
  prices: Record<string, ModelPrice> | undefined;
  /** The budget the pipeline keeps at its boundary. */
  budget: number | undefined;
}

/**
 * Check the options against the schema, then what no single key can say:
 * an option given twice with different values, or one the chosen stages
 * would ignore. Every one is an error, never a silent choice.
 */
function resolveOptions(options: PipelineOptions): ResolvedOptions {
  checkOptions(pipelineOptionsSchema, options);
  if ((options.threads ?? 1) > 1 && options.tokenizer !== undefined && options.tokenizer !== o200k) {
    throw invalidOption('threads', '1 with a custom tokenizer (it cannot be copied to a thread)', options.threads);
  }
  const stageOptions = typeof options.llm === 'object' ? options.llm : {};
  const llm: CallModelOptions = { ...stageOptions };
  for (const name of llmShortcuts) {
    const value = options[name];
    if (value === undefined) continue;
    if (options.llm === false) throw conflict(name, `\`${name}\` configures the llm stage, which \`llm: false\` leaves out: remove one of them`, value);
    once(name, value, stageOptions[name]);
    Object.assign(llm, { [name]: value });
  }
  once('model', options.model, stageOptions.model);
  once('dryRun', options.dryRun, stageOptions.dryRun);
  once('prices', options.prices, stageOptions.prices);
  const model = options.model ?? stageOptions.model ?? 'gpt-4o';
  const prices = options.prices ?? stageOptions.prices;
  const dryRun = options.dryRun ?? stageOptions.dryRun;
  Object.assign(llm, { model }, dryRun ? { dryRun } : {}, prices ? { prices } : {});

  const sections = options.sections ?? {};
  const sectionsChosen = (options.stages ?? localStageNames).includes('sections');
  if (options.budget !== undefined && sections.budget !== undefined && sections.budget !== options.budget) {
    throw conflict('sections.budget', `the budget is given twice, with different values: \`budget: ${options.budget}\` and \`sections.budget: ${sections.budget}\`; keep one`, sections.budget);
  }
  const budget = options.budget ?? sections.budget;
  if (sections.ratio !== undefined) {
    if (budget !== undefined) throw conflict('sections.ratio', '`sections.ratio` and a budget contradict each other: a budget caps every document, a ratio keeps a share of each; keep one', sections.ratio);
    if (!sectionsChosen) throw conflict('sections.ratio', '`sections.ratio` is kept by the sections stage, which `stages` leaves out: add `sections` to `stages`, or give a `budget` instead', sections.ratio);
  }
  return { model, llm: options.llm === false ? undefined : llm, prices, budget };
}

/** An option given at the top level and in `llm`: the same value is fine, two values are an error. */
function once(name: string, top: unknown, inStage: unknown): void {
  if (top === undefined || inStage === undefined || isDeepStrictEqual(top, inStage)) return;
  throw conflict(name, `\`${name}\` is given twice, with different values: \`${formatValue(top)}\` at the top level and \`${formatValue(inStage)}\` in \`llm\`; keep one`, top);
}

function conflict(option: string, message: string, value: unknown): OptionError {
  return new OptionError('E_OPTION_INVALID', message.endsWith('.') ? message : `${message}.`, { option, value });
}

/** The local stages' options, checked once here: a thread gets a structured clone of them. */
function threadOptions(options: PipelineOptions): LocalThreadsSetup['options'] {
  const local: LocalThreadsSetup['options'] = {};
  for (const name of localStageNames) if (options[name] !== undefined) Object.assign(local, { [name]: options[name] });
  try {
    return structuredClone(local);
  } catch (error) {
    throw invalidOption('threads', `1 when stage options hold functions or injected objects (${error instanceof Error ? error.message : String(error)})`, options.threads);
  }
}

async function loadPipelineInput(input: PipelineInput, options: LoadOptions): Promise<DistillDocument> {
  if (input instanceof DistillDocument) return input;
  const doc = 'path' in input && (typeof input.path === 'string' || Buffer.isBuffer(input.path)) ? await loadFile(input.path, input.id, options) : await loadInput(input as DocumentInput);
  Object.assign(doc.tags, input.tags);
  return doc;
}
