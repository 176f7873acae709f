import { defaultThreads } from '../src/local-threads.js';
import { createPipeline } from '../src/pipeline.js';
import { spamAssassinFiles } from './corpora.js';

/**
 * Many documents, built by repeating the SpamAssassin ham emails, through
 * the whole local pipeline (LLM dry): memory must stay flat because records
 * stream out and nothing accumulates, and the run reports documents/s.
 */
export interface ScaleResult {
  documents: number;
  threads: number;
  seconds: number;
  documentsPerSecond: number;
  /** Resident memory (MB) after each tenth of the run. */
  rssMbByTenth: number[];
  /** Growth from the first tenth to the end, in MB. */
  rssGrowthMb: number;
}

export async function runScale(documents: number): Promise<ScaleResult> {
  const files = await spamAssassinFiles();
  const pipeline = createPipeline({ task: 'Who wrote, what do they ask for or announce, and by when?', budget: 500, dryRun: true, threads: defaultThreads() });
  const inputs = function* () {
    for (let index = 0; index < documents; index++) yield { path: files[index % files.length]!, id: `copy-${index}` };
  };
  const rssMbByTenth: number[] = [];
  const started = performance.now();
  let done = 0;
  try {
    for await (const _record of pipeline.run(inputs())) {
      done++;
      if (done % Math.max(1, Math.floor(documents / 10)) === 0) rssMbByTenth.push(Math.round(process.memoryUsage().rss / 1e6));
    }
  } finally {
    await pipeline.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    documents: done,
    threads: defaultThreads(),
    seconds: Math.round(seconds * 10) / 10,
    documentsPerSecond: Math.round((done / seconds) * 10) / 10,
    rssMbByTenth,
    rssGrowthMb: (rssMbByTenth.at(-1) ?? 0) - (rssMbByTenth[0] ?? 0),
  };
}
