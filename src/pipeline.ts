import { DistillDocument } from './document.js';
import { invalidOption } from './errors.js';
import { LocalThreads, type LocalThreadsSetup } from './local-threads.js';
import { loadFile, loadInput, type DocumentInput, type LoadOptions, type PathInput } from './loaders/index.js';
import type { ModelPrice } from './pricing.js';
import { toRecord, type DistillRecord } from './record.js';
import { runDocuments, runStages, type StageEvent } from './runner.js';
import type { Stage, StageContext } from './stage.js';
import { o200k, type Tokenizer } from './tokens.js';
import { createStage, localStageNames, type StageName, type StageOptionsMap } from '../stages/index.js';
import type { LocalStageName } from '../stages/names.js';

export type { LocalStageName, PathInput };

/** What `run` and `process` accept: in-memory text or bytes, a file path, or a document already built. */
export type PipelineInput = DocumentInput | PathInput | DistillDocument;

/**
 * The options of the CLI and the config file, as one typed object.
 * @example
 * const pipeline = createPipeline({ task: 'What did it cost?', budget: 500, dryRun: true });
 */
export interface PipelineOptions {
  /** The instruction for GPT-4o; section selection scores against it too. */
  task: string;
  /** Token budget of each distilled document (o200k, exact, never exceeded). */
  budget?: number;
  /** @default 'gpt-4o' */
  model?: string;
  /** The local stages to run, always in pipeline order. @default ['regex', 'entities', 'classify', 'sections'] */
  stages?: readonly LocalStageName[];
  /** Files larger than this many bytes are skipped unread, with a reason (`--max-bytes`). @default 50_000_000 (50 MB) */
  maxBytes?: number;
  /** Run the LLM stage after the local ones. With no API key it runs dry. @default true */
  llm?: boolean;
  /** Show the request that would be sent, send nothing. @default false */
  dryRun?: boolean;
  /** Documents in flight at once. @default 4, and at least twice `threads` */
  concurrency?: number;
  /**
   * Worker threads that run the local stages, a whole document each at a
   * time; `1` runs them in the calling thread. More threads use more cores
   * (one per core is the fast setting). Needs stage options that can be
   * copied to a thread (no injected backends or classifiers) and the
   * default tokenizer. Near duplicates (`sections.dedupe: 'run'`) are then
   * looked for among the documents of the same thread.
   * @default 1
   */
  threads?: number;
  /** Per-million-token prices that override or extend the built-in table. */
  prices?: Record<string, ModelPrice>;
  /** @default o200k_base (tiktoken) */
  tokenizer?: Tokenizer;
  regex?: StageOptionsMap['regex'];
  entities?: StageOptionsMap['entities'];
  classify?: StageOptionsMap['classify'];
  sections?: StageOptionsMap['sections'];
  llmOptions?: StageOptionsMap['llm'];
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
  validate(options);
  const model = options.model ?? 'gpt-4o';
  const tokenizer = options.tokenizer ?? o200k;
  const context: StageContext = {
    task: options.task,
    model,
    tokenizer,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const chosen = new Set<StageName>(options.stages ?? localStageNames);
  const names: StageName[] = localStageNames.filter((name) => chosen.has(name));
  if (options.llm ?? true) names.push('llm');
  const stages = names.map((name) => {
    if (name === 'llm') {
      return createStage('llm', { ...options.llmOptions, model, ...(options.dryRun ? { dryRun: true } : {}), ...(options.prices ? { prices: options.prices } : {}) });
    }
    return createStage(name, options[name]);
  });
  const threads = options.threads ?? 1;
  const localNames = names.filter((name): name is LocalStageName => name !== 'llm');
  const pool = threads > 1 ? new LocalThreads({ size: threads, stages: localNames, options: threadOptions(options), context: { task: options.task, model, ...(options.budget === undefined ? {} : { budget: options.budget }) } }) : undefined;
  // With threads, the main thread runs only what must be shared by the whole run: the model calls.
  const mainStages = pool ? stages.slice(localNames.length) : stages;
  const runOptions = {
    stages: mainStages,
    context,
    concurrency: Math.max(options.concurrency ?? 4, 2 * threads),
    ...(options.onStage ? { onStage: options.onStage } : {}),
  };
  const loadOptions: LoadOptions = options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
  const load = (input: PipelineInput) => loadPipelineInput(input, loadOptions);
  const prepare = pool ? async (input: PipelineInput) => pool.run(await load(input), options.onStage) : load;
  const recordOptions = { task: options.task, model, tokenizer, ...(options.prices ? { prices: options.prices } : {}) };
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
      for (const stage of mainStages) await stage.load?.();
    },
    async close() {
      await Promise.all([pool?.close(), ...stages.map((stage) => stage.close?.())]);
    },
  };
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
  if ('path' in input && (typeof input.path === 'string' || Buffer.isBuffer(input.path))) {
    return loadFile(input.path, input.id, options);
  }
  return loadInput(input as DocumentInput);
}

function validate(options: PipelineOptions): void {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  if (typeof options.task !== 'string' || options.task.trim() === '') throw invalidOption('task', 'a non-empty string', options.task);
  if (options.budget !== undefined && (!Number.isInteger(options.budget) || options.budget < 1)) {
    throw invalidOption('budget', 'a positive integer', options.budget);
  }
  if (options.concurrency !== undefined && (!Number.isInteger(options.concurrency) || options.concurrency < 1)) {
    throw invalidOption('concurrency', 'a positive integer', options.concurrency);
  }
  if (options.maxBytes !== undefined && (!Number.isInteger(options.maxBytes) || options.maxBytes < 1)) {
    throw invalidOption('maxBytes', 'a positive integer (bytes)', options.maxBytes);
  }
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw invalidOption('threads', 'a positive integer', options.threads);
  }
  if ((options.threads ?? 1) > 1 && options.tokenizer !== undefined && options.tokenizer !== o200k) {
    throw invalidOption('threads', '1 with a custom tokenizer (it cannot be copied to a thread)', options.threads);
  }
  if (options.stages !== undefined) {
    if (!Array.isArray(options.stages)) throw invalidOption('stages', `an array of ${localStageNames.join(', ')}`, options.stages);
    for (const name of options.stages) {
      if (!(localStageNames as readonly string[]).includes(name)) {
        throw invalidOption('stages', `a list of ${localStageNames.join(', ')}`, options.stages);
      }
    }
  }
}
