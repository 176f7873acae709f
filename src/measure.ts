import { createPipeline, type LocalStageName, type PipelineInput } from './pipeline.js';
import { costOf } from './pricing.js';
import { buildMessages, countPromptTokens } from './prompt.js';
import { RunSummary } from './summary.js';
import { o200k, type Tokenizer } from './tokens.js';

/**
 * Measure a corpus through the local stages (the LLM stage dry): tokens in
 * and out of every stage, time, throughput, memory, the prompt cost of the
 * original against the distilled text, and any baselines on the very same
 * documents and budget. `npm run bench` and `distill bench` both use it.
 */

export interface StageRow {
  stage: string;
  documents: number;
  tokensIn: number;
  tokensOut: number;
  removedPercent: number;
  cumulativePercent: number;
  ms: number;
  mbPerSecond: number;
}

export interface MethodRow {
  method: string;
  tokens: number;
  gpt4oUsd: number | null;
  gpt4oMiniUsd: number | null;
  /** Share of must-keep strings kept, where the corpus has gold. */
  retention?: number;
}

export interface MeasureResult {
  corpus: string;
  task: string;
  budget: number | undefined;
  documents: number;
  statuses: Record<string, number>;
  megabytes: number;
  wallMs: number;
  /** Starting the threads and loading the models, before `wallMs` starts. */
  readyMs: number;
  mbPerSecond: number;
  documentsPerSecond: number;
  peakRssMb: number;
  /** Threads that ran the local stages. */
  threads: number;
  stages: StageRow[];
  methods: MethodRow[];
}

/** A baseline distils a loaded text to the budget some other way. */
export type Baseline = (text: string, task: string, budget: number) => string | Promise<string>;

export interface MeasureOptions {
  name: string;
  task: string;
  budget?: number;
  stages?: readonly LocalStageName[];
  concurrency?: number;
  /** Threads for the local stages; see `PipelineOptions.threads`. @default 1 */
  threads?: number;
  /** See `PipelineOptions.maxBytes`. @default 50_000_000 */
  maxBytes?: number;
  /** Other methods to compare at the same budget, by name. */
  baselines?: Record<string, Baseline>;
  /** Strings that must survive, per input id. */
  mustKeep?: ReadonlyMap<string, readonly string[]>;
  tokenizer?: Tokenizer;
}

/** The first `budget` tokens of `text` (pass `tokens`, its encoding, to truncate one text at many budgets); a character cut in half is dropped, so the result re-counts within budget. */
export function headTruncate(text: string, budget: number, tokenizer: Tokenizer = o200k, tokens: Uint32Array = tokenizer.encode(text)): string {
  if (tokens.length <= budget) return text;
  for (let length = budget; length > 0; length--) {
    const head = tokenizer.decode(tokens.slice(0, length)).replace(/\uFFFD+$/, '');
    if (tokenizer.count(head) <= budget) return head;
  }
  return '';
}

/**
 * Text as gold evidence is matched: NFKC, lower case, soft hyphens removed,
 * curly quotes straightened, Unicode dashes to `-`, whitespace collapsed (the
 * dev set's rule, and a superset of the annotated fixtures' whitespace fold).
 */
export function foldForMatch(value: string): string {
  return value
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\u00ad/g, '')
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Whether a gold span survives in `text`, under `foldForMatch` on both sides. */
export function survives(span: string, text: string): boolean {
  return foldForMatch(text).includes(foldForMatch(span));
}

export async function measure(inputs: Iterable<PipelineInput> | AsyncIterable<PipelineInput>, options: MeasureOptions): Promise<MeasureResult> {
  const tokenizer = options.tokenizer ?? o200k;
  const chars = new Map<string, number>();
  // When each stage was busy with at least one document: with several documents in flight, summed per-document
  // times overstate a stage's cost, while the union of its busy intervals is the wall time it really held.
  const busy = new Map<string, [number, number][]>();
  const pipeline = createPipeline({
    task: options.task,
    dryRun: true,
    tokenizer,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    ...(options.stages ? { stages: options.stages } : {}),
    onStage: (event) => {
      chars.set(event.stage, (chars.get(event.stage) ?? 0) + event.charsIn);
      // A thread's events arrive with its document, after the fact: place each interval where the stage ran.
      const end = event.endedAt - performance.timeOrigin;
      const list = busy.get(event.stage) ?? [];
      list.push([end - event.ms, end]);
      busy.set(event.stage, list);
    },
  });
  const summary = new RunSummary();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const methods = ['no distillation', ...Object.keys(options.baselines ?? {}), `distill${options.budget ? ` to ${options.budget}` : ''}`];
  const tokens = new Map(methods.map((method) => [method, 0]));
  const promptTokens = new Map(methods.map((method) => [method, 0]));
  const kept = new Map(methods.map((method) => [method, 0]));
  let spans = 0;
  // Threads start and models load before the clock starts, as `distill run` loads them before the first document:
  // the figure is the running pipeline's, and the start-up is reported beside it.
  const readyStarted = performance.now();
  await pipeline.ready();
  const readyMs = performance.now() - readyStarted;
  const started = performance.now();
  let wallMs = 0;
  const outputs: { id: string; source: string; distilled: string }[] = [];
  try {
    for await (const record of pipeline.run(inputs)) {
      summary.add(record);
      if (record.status === 'ok') outputs.push({ id: record.id, source: record.source, distilled: record.distilled });
    }
    wallMs = performance.now() - started;
  } finally {
    clearInterval(sampler);
    await pipeline.close();
  }

  // Baselines run after the timed run, on the same loaded text, so they do not distort its figures.
  const byId = new Map(outputs.map((output) => [output.id, output]));
  for await (const input of inputs) {
    const doc = await pipeline.load(input);
    const output = byId.get(doc.id);
    if (doc.status !== 'ok' || !output) continue;
    const texts = new Map<string, string>([['no distillation', doc.original]]);
    for (const [name, baseline] of Object.entries(options.baselines ?? {})) texts.set(name, await baseline(doc.original, options.task, options.budget ?? Number.MAX_SAFE_INTEGER));
    texts.set(methods.at(-1)!, output.distilled);
    const gold = options.mustKeep?.get(doc.id) ?? [];
    spans += gold.length;
    for (const [method, text] of texts) {
      tokens.set(method, tokens.get(method)! + tokenizer.count(text));
      promptTokens.set(method, promptTokens.get(method)! + countPromptTokens(buildMessages(options.task, text, output.source), tokenizer));
      kept.set(method, kept.get(method)! + gold.filter((span) => survives(span, text)).length);
    }
  }

  const stageList = [...summary.stages.values()].filter((stage) => stage.stage !== 'llm');
  // Throughput is over the text as loaded: what entered the first stage.
  const megabytes = (chars.get(stageList[0]?.stage ?? '') ?? 0) / 1e6;
  const base = stageList[0]?.tokensIn ?? 0;
  return {
    corpus: options.name,
    task: options.task,
    budget: options.budget,
    documents: summary.documents,
    statuses: { ...summary.statuses },
    megabytes,
    wallMs: Math.round(wallMs),
    readyMs: Math.round(readyMs),
    mbPerSecond: throughput(megabytes * 1e6, wallMs),
    documentsPerSecond: wallMs > 0 ? summary.documents / (wallMs / 1000) : 0,
    peakRssMb: Math.round(peakRss / 1e6),
    threads: options.threads ?? 1,
    stages: stageList.map((stage) => ({
      stage: stage.stage,
      documents: stage.documents,
      tokensIn: stage.tokensIn,
      tokensOut: stage.tokensOut,
      removedPercent: stage.tokensIn > 0 ? (100 * (stage.tokensIn - stage.tokensOut)) / stage.tokensIn : 0,
      cumulativePercent: base > 0 ? (100 * (base - stage.tokensOut)) / base : 0,
      ms: Math.round(busyMs(busy.get(stage.stage) ?? [])),
      mbPerSecond: throughput(chars.get(stage.stage) ?? 0, busyMs(busy.get(stage.stage) ?? [])),
    })),
    methods: methods.map((method) => ({
      method,
      tokens: tokens.get(method)!,
      gpt4oUsd: costOf('gpt-4o', { promptTokens: promptTokens.get(method)! }),
      gpt4oMiniUsd: costOf('gpt-4o-mini', { promptTokens: promptTokens.get(method)! }),
      ...(spans > 0 ? { retention: kept.get(method)! / spans } : {}),
    })),
  };
}

function throughput(chars: number, ms: number): number {
  return ms > 0 ? chars / 1e6 / (ms / 1000) : 0;
}

/** The length of the union of time intervals. */
export function busyMs(intervals: readonly [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [from, to] of sorted) {
    if (!current || from > current[1]) {
      if (current) total += current[1] - current[0];
      current = [from, to];
    } else {
      current[1] = Math.max(current[1], to);
    }
  }
  return current ? total + current[1] - current[0] : total;
}
