/**
 * Held-out figures of the shipped model, computed the way the pipeline runs
 * it: the ONNX file through @huggingface/transformers, offline, long sections
 * read in windows (stages/classify-model.ts). Needs data/sections.jsonl from
 * build_data.py; the held-out documents are the ones train.py never saw.
 *
 *   node --import tsx models/section-classifier/train/evaluate.mts [--limit N] [--model path] [--max-windows N]
 *
 * `--max-windows N` reads a long section through at most N of its windows
 * (the classify stage's `maxWindows`); without it every window is read.
 *
 * Prints a Markdown table and writes data/eval.json (or `--out file`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultModelPath, loadClassifier } from '../../../stages/classify-model.js';

const { values } = parseArgs({ options: { limit: { type: 'string' }, model: { type: 'string' }, errors: { type: 'string' }, 'max-windows': { type: 'string' }, out: { type: 'string' } } });
const noise = new Set(['legal', 'navigation', 'signature', 'quoted', 'footer', 'references']);
const data = new URL('./data/', import.meta.url).pathname;

interface Row {
  doc: string;
  source: string;
  label: string;
  text: string;
}

const heldOut = (doc: string) => Number.parseInt(createHash('sha1').update(doc).digest('hex').slice(0, 8), 16) % 100 < 15;
let rows = readFileSync(`${data}sections.jsonl`, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as Row)
  .filter((row) => heldOut(row.doc));
if (values.limit) {
  // An even spread over the file, so a quick run still sees every source.
  const step = Math.max(1, Math.floor(rows.length / Number(values.limit)));
  rows = rows.filter((_, index) => index % step === 0);
}

const started = performance.now();
const classifier = await loadClassifier({
  model: values.model ?? defaultModelPath(),
  allowRemoteModels: false,
  task: 'text-classification',
  batchSize: 32,
});
const loadMs = performance.now() - started;
const maxWindows = values['max-windows'] === undefined ? Number.POSITIVE_INFINITY : Number(values['max-windows']);
const predicted: string[] = [];
const chunk = 512;
for (let offset = 0; offset < rows.length; offset += chunk) {
  const labels = await classifier.classify(rows.slice(offset, offset + chunk).map((row) => row.text), { maxWindows });
  predicted.push(...labels.map((label) => label.label));
}
const seconds = (performance.now() - started - loadMs) / 1000;

const labels = [...classifier.labels];
const perLabel = labels.map((label) => {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  rows.forEach((row, index) => {
    const guess = predicted[index];
    if (row.label === label && guess === label) tp++;
    else if (guess === label) fp++;
    else if (row.label === label) fn++;
  });
  return { label, support: tp + fn, precision: tp + fp ? tp / (tp + fp) : null, recall: tp + fn ? tp / (tp + fn) : null };
});
const correct = rows.filter((row, index) => predicted[index] === row.label).length;
const noiseRows = rows.map((row, index) => ({ row, index })).filter(({ row }) => noise.has(row.label));
const contentRows = rows.map((row, index) => ({ row, index })).filter(({ row }) => !noise.has(row.label));
const binary = rows.filter((row, index) => noise.has(row.label) === noise.has(predicted[index]!)).length;
const bySource = new Map<string, { n: number; correct: number }>();
rows.forEach((row, index) => {
  const entry = bySource.get(row.source) ?? { n: 0, correct: 0 };
  entry.n++;
  if (predicted[index] === row.label) entry.correct++;
  bySource.set(row.source, entry);
});
const confusion: Record<string, Record<string, number>> = {};
rows.forEach((row, index) => {
  const guess = predicted[index]!;
  if (guess === row.label) return;
  confusion[row.label] ??= {};
  confusion[row.label]![guess] = (confusion[row.label]![guess] ?? 0) + 1;
});

const result = {
  model: values.model ?? defaultModelPath(),
  maxWindows: Number.isFinite(maxWindows) ? maxWindows : null,
  sections: rows.length,
  documents: new Set(rows.map((row) => row.doc)).size,
  accuracy: correct / rows.length,
  noiseVsContentAccuracy: binary / rows.length,
  noiseRecall: noiseRows.filter(({ index }) => noise.has(predicted[index]!)).length / noiseRows.length,
  noisePrecision:
    noiseRows.filter(({ index }) => noise.has(predicted[index]!)).length /
    rows.filter((_, index) => noise.has(predicted[index]!)).length,
  contentRecall: contentRows.filter(({ index }) => !noise.has(predicted[index]!)).length / contentRows.length,
  perLabel,
  bySource: Object.fromEntries([...bySource].map(([source, entry]) => [source, { sections: entry.n, accuracy: entry.correct / entry.n }])),
  confusion,
  loadMs: Math.round(loadMs),
  sectionsPerSecond: rows.length / seconds,
};
writeFileSync(values.out ?? `${data}eval.json`, JSON.stringify(result, null, 2));

const pct = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)}%`);
console.log(`held-out: ${result.sections} sections from ${result.documents} documents, ${Number.isFinite(maxWindows) ? `at most ${maxWindows} windows` : 'every window'} per section`);
console.log(`accuracy ${pct(result.accuracy)} · noise vs content ${pct(result.noiseVsContentAccuracy)} · noise recall ${pct(result.noiseRecall)} · noise precision ${pct(result.noisePrecision)} · content recall ${pct(result.contentRecall)}`);
console.log('\n| label | kind | support | precision | recall |\n|---|---|---:|---:|---:|');
for (const entry of perLabel) {
  console.log(`| ${entry.label} | ${noise.has(entry.label) ? 'noise' : 'content'} | ${entry.support} | ${pct(entry.precision)} | ${pct(entry.recall)} |`);
}
console.log('\nby source:', JSON.stringify(result.bySource));
console.log('errors (gold → predicted):', JSON.stringify(confusion));
if (values.errors) {
  // A few misread sections per confusion, to read by eye.
  const shown = new Map<string, number>();
  rows.forEach((row, index) => {
    const key = `${row.label} → ${predicted[index]}`;
    if (row.label === predicted[index] || (shown.get(key) ?? 0) >= Number(values.errors)) return;
    shown.set(key, (shown.get(key) ?? 0) + 1);
    console.log(`${key} [${row.source}] ${JSON.stringify(row.text.slice(0, 200))}`);
  });
}
