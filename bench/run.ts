/**
 * `npm run bench [-- --quick]`: token savings per stage and retention on real
 * corpora, side by side with the alternatives, written to
 * bench/results/<timestamp>.json and .md. It never asserts times; it
 * reports them.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMeasure } from '../src/report/terminal.js';
import { annotatedFixtures, sotu, spamAssassin } from './corpora.js';
import { formatNq, runNq, type NqResult } from './nq.js';
import { measureCorpus, type CorpusResult } from './pipeline.js';
import { defaultRelevanceModelPath } from '../stages/sections/relevance-model.js';
import { formatHostile, runHostile, type HostileResult } from './hostile.js';
import { benchLinearity, formatLinearity, type LinearityResult } from './regex-linear.js';
import { defaultDevset, formatRetention, runRetention, type RetentionResult } from './retention.js';
import { formatReportBench, reportBenchSizes, runReportBench, type ReportBenchResult } from './report.js';
import { runScale, type ScaleResult } from './scale.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('./results', import.meta.url).pathname },
    only: { type: 'string' },
  },
});
const quick = values.quick;
const only = values.only?.split(',');
const wanted = (name: string) => !only || only.includes(name);

const results: { startedAt: string; quick: boolean; machine: Record<string, unknown>; corpora: CorpusResult[]; nq?: NqResult; scale?: ScaleResult; report?: ReportBenchResult; linearity?: LinearityResult; hostile?: HostileResult; retention?: RetentionResult | string } = {
  startedAt: new Date().toISOString(),
  quick,
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
  corpora: [],
};
const markdown: string[] = [`# distill bench ${results.startedAt}${quick ? ' (quick)' : ''}`, ''];
const say = (text: string) => {
  process.stdout.write(`${text}\n`);
  markdown.push(text);
};

function printCorpus(result: CorpusResult) {
  say(`## ${result.corpus}`);
  say('');
  say(`\`\`\`\n${formatMeasure(result)}\n\`\`\``);
  say('');
}

const started = performance.now();
say(`machine: ${results.machine.cores} cores, ${results.machine.cpu}, node ${process.version}`);
say('');

if (wanted('fixtures')) {
  const result = await measureCorpus(await annotatedFixtures());
  results.corpora.push(result);
  printCorpus(result);
}
if (wanted('sotu')) {
  const result = await measureCorpus(await sotu(quick ? 16 : undefined));
  results.corpora.push(result);
  printCorpus(result);
}
if (wanted('spam')) {
  const result = await measureCorpus(await spamAssassin(quick ? 200 : undefined));
  results.corpora.push(result);
  printCorpus(result);
}
if (wanted('nq')) {
  const nq = await runNq({ quick, ...(quick ? { limit: 200 } : {}), log: (line) => process.stderr.write(`${line}\n`) });
  results.nq = nq;
  say('## NQ answer recall (20-passage documents, gold + 19 distractors)');
  say('');
  say(nq.skipped ? nq.skipped : `\`\`\`\n${formatNq(nq)}\n\`\`\``);
  say('');
}
if (wanted('retention')) {
  say('## retention: gold evidence kept on the dev set (real documents, real tasks)');
  say('');
  if (existsSync(join(defaultDevset, 'tasks.jsonl'))) {
    // The quick run takes a fixed-seed third of the tasks: retention is the quality figure, so it is never skipped.
    const retention = await runRetention({
      ...(quick ? { limit: 12 } : {}),
      // The shipped cross-encoder is off by default; its row shows what turning it on does.
      variants: { 'distill + relevance model': { relevanceModel: defaultRelevanceModelPath() } },
      log: (line) => process.stderr.write(`${line}\n`),
    });
    results.retention = retention;
    say(formatRetention(retention));
  } else {
    results.retention = `skipped: no dev set at ${defaultDevset}`;
    say(results.retention);
  }
  say('');
}
if (wanted('scale')) {
  const scale = await runScale(quick ? 400 : 10_000);
  results.scale = scale;
  say(`## scale: ${scale.documents} documents (SpamAssassin ham, repeated), whole local pipeline on ${scale.threads} threads`);
  say('');
  say(`${scale.documentsPerSecond} docs/s over ${scale.seconds} s; RSS by tenth of the run (MB): ${scale.rssMbByTenth.join(', ')}; growth first→last tenth ${scale.rssGrowthMb} MB`);
  say('');
}

if (wanted('report')) {
  const report = await runReportBench(quick ? reportBenchSizes.quick : reportBenchSizes.full);
  results.report = report;
  say(`## report: the HTML report's size and its load time in Chromium`);
  say('');
  say(formatReportBench(report));
  say('');
}

if (wanted('linear')) {
  const linearity = benchLinearity();
  results.linearity = linearity;
  say('## regex rules on adversarial input');
  say('');
  say(`\`\`\`\n${formatLinearity(linearity)}\n\`\`\``);
  say('');
}

if (wanted('hostile')) {
  // The full run reads a 49 MB file and 200,000 headings, which takes minutes; the quick one keeps the shape, smaller.
  const hostile = await runHostile(quick ? { bigMegabytes: 2, headings: 20_000 } : {});
  results.hostile = hostile;
  say('## hostile inputs (fixtures/hostile/make.mjs, plus the large files), whole local pipeline, dry');
  say('');
  say(`\`\`\`\n${formatHostile(hostile)}\n\`\`\``);
  say('');
}

say(`bench finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
await mkdir(values.out, { recursive: true });
const stamp = results.startedAt.replace(/[:.]/g, '-');
await writeFile(join(values.out, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(join(values.out, `${stamp}.md`), `${markdown.join('\n')}\n`);
process.stdout.write(`results: ${join(values.out, `${stamp}.json`)} and .md\n`);
