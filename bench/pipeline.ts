import { defaultThreads } from '../src/local-threads.js';
import { headTruncate, measure, type MeasureResult } from '../src/measure.js';
import { langchainBm25 } from './baselines.js';
import type { Corpus } from './corpora.js';

export type CorpusResult = MeasureResult;

/** One corpus through the local stages, with head truncation and LangChain BM25 at the same budget beside it. */
export async function measureCorpus(corpus: Corpus, options: { skipLangChain?: boolean } = {}): Promise<CorpusResult> {
  return measure(corpus.inputs, {
    name: corpus.name,
    task: corpus.task,
    budget: corpus.budget,
    // As the CLI runs by default: the local stages on one thread per core.
    threads: defaultThreads(),
    baselines: {
      [`head truncation to ${corpus.budget}`]: (text, _task, budget) => headTruncate(text, budget),
      ...(options.skipLangChain ? {} : { [`LangChain splitter + BM25 to ${corpus.budget}`]: (text: string, task: string, budget: number) => langchainBm25(text, task, budget) }),
    },
    ...(corpus.mustKeep ? { mustKeep: corpus.mustKeep } : {}),
  });
}
