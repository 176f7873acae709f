import { createPipeline, type LocalStageName } from '../src/pipeline.js';
import { costOf } from '../src/pricing.js';
import { buildMessages, countPromptTokens } from '../src/prompt.js';
import { RunSummary } from '../src/summary.js';
import { o200k } from '../src/tokens.js';
import { headTruncate, langchainBm25 } from './baselines.js';
import { survives, type Corpus } from './corpora.js';

/**
 * One corpus through the local stages (the LLM stage dry), measured: tokens
 * in and out of every stage, time, throughput, memory, the prompt cost of
 * the original against the distilled text, and the baselines on the very
 * same documents and budget.
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
  gpt4oUsd: number;
  gpt4oMiniUsd: number;
  /** Share of must-keep spans kept, where the corpus has gold. */
  retention?: number;
}

export interface CorpusResult {
  corpus: string;
  task: string;
  budget: number;
  documents: number;
  statuses: Record<string, number>;
  megabytes: number;
  wallMs: number;
  mbPerSecond: number;
  documentsPerSecond: number;
  peakRssMb: number;
  stages: StageRow[];
  methods: MethodRow[];
}

const price = (model: string, promptTokens: number) => costOf(model, { promptTokens }) ?? Number.NaN;

export interface MeasureOptions {
  stages?: readonly LocalStageName[];
  concurrency?: number;
  /** Skip the LangChain baseline (slow on long documents). */
  skipLangChain?: boolean;
}

export async function measureCorpus(corpus: Corpus, options: MeasureOptions = {}): Promise<CorpusResult> {
  const pipeline = createPipeline({
    task: corpus.task,
    budget: corpus.budget,
    dryRun: true,
    concurrency: options.concurrency ?? 4,
    ...(options.stages ? { stages: options.stages } : {}),
    onStage: (event) => {
      chars.set(event.stage, (chars.get(event.stage) ?? 0) + event.charsIn);
    },
  });
  const chars = new Map<string, number>();
  const summary = new RunSummary();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const totals = { none: 0, head: 0, bm25: 0, ours: 0 };
  const prompts = { none: 0, head: 0, bm25: 0, ours: 0 };
  const kept = { none: 0, head: 0, bm25: 0, ours: 0 };
  let spans = 0;
  const started = performance.now();
  const outputs: { id: string; source: string; distilled: string }[] = [];
  try {
    for await (const record of pipeline.run(corpus.inputs)) {
      summary.add(record);
      if (record.status !== 'ok') continue;
      outputs.push({ id: record.id, source: record.source, distilled: record.distilled });
    }
  } finally {
    await pipeline.close();
  }
  const wallMs = performance.now() - started;
  clearInterval(sampler);

  // Baselines on the same loaded text, after the timed run so they do not distort its figures.
  const originalById = new Map<string, string>();
  for (const input of corpus.inputs) {
    const doc = await pipeline.load(input);
    if (doc.status === 'ok') originalById.set(doc.id, doc.original);
  }
  for (const entry of outputs) {
    const original = originalById.get(entry.id) ?? '';
    const head = headTruncate(original, corpus.budget);
    const bm25 = options.skipLangChain ? head : await langchainBm25(original, corpus.task, corpus.budget);
    const texts = { none: original, head, bm25, ours: entry.distilled };
    for (const method of ['none', 'head', 'bm25', 'ours'] as const) {
      totals[method] += o200k.count(texts[method]);
      prompts[method] += countPromptTokens(buildMessages(corpus.task, texts[method], entry.source), o200k);
      for (const span of corpus.mustKeep?.get(entry.id) ?? []) if (survives(span, texts[method])) kept[method]++;
    }
    spans += corpus.mustKeep?.get(entry.id)?.length ?? 0;
  }

  const stageList = [...summary.stages.values()].filter((stage) => stage.stage !== 'llm');
  // Throughput is over the text as loaded: what entered the first stage.
  const megabytes = (chars.get(stageList[0]?.stage ?? '') ?? 0) / 1e6;
  const base = stageList[0]?.tokensIn ?? 0;
  const stages: StageRow[] = stageList.map((stage) => ({
    stage: stage.stage,
    documents: stage.documents,
    tokensIn: stage.tokensIn,
    tokensOut: stage.tokensOut,
    removedPercent: stage.tokensIn > 0 ? (100 * (stage.tokensIn - stage.tokensOut)) / stage.tokensIn : 0,
    cumulativePercent: base > 0 ? (100 * (base - stage.tokensOut)) / base : 0,
    ms: Math.round(stage.ms),
    mbPerSecond: stage.ms > 0 ? (chars.get(stage.stage) ?? 0) / 1e6 / (stage.ms / 1000) : 0,
  }));
  const names = { none: 'no distillation', head: `head truncation to ${corpus.budget}`, bm25: `LangChain splitter + BM25 to ${corpus.budget}`, ours: `distill to ${corpus.budget}` };
  const methods: MethodRow[] = (['none', 'head', 'bm25', 'ours'] as const)
    .filter((method) => !(options.skipLangChain && method === 'bm25'))
    .map((method) => ({
      method: names[method],
      tokens: totals[method],
      gpt4oUsd: price('gpt-4o', prompts[method]),
      gpt4oMiniUsd: price('gpt-4o-mini', prompts[method]),
      ...(spans > 0 ? { retention: kept[method] / spans } : {}),
    }));
  return {
    corpus: corpus.name,
    task: corpus.task,
    budget: corpus.budget,
    documents: summary.documents,
    statuses: { ...summary.statuses },
    megabytes,
    wallMs: Math.round(wallMs),
    mbPerSecond: megabytes / (wallMs / 1000),
    documentsPerSecond: summary.documents / (wallMs / 1000),
    peakRssMb: Math.round(peakRss / 1e6),
    stages,
    methods,
  };
}
