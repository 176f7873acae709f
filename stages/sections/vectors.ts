import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { stopWords, terms, words } from './analyze.js';

/**
 * Word vectors for meaning that words do not share: "anti-poverty" and
 * "food stamp" have no term in common, but their GloVe vectors are close.
 * The table is the 50,000 commonest words of GloVe (100 dimensions, unit
 * length, int8; models/word-vectors/derive.mjs), about 5 MB, read once per
 * thread in some 50 ms. A text's vector is the SIF-weighted sum of its
 * words' (Arora et al.: frequent words weigh less), so cosine similarity of
 * a sentence and a task is a cheap first-pass signal of shared meaning.
 */
export interface WordVectors {
  readonly dimensions: number;
  /** The SIF-weighted, unnormalised vector of `text`'s content words; `undefined` when none is known. */
  embed(text: string): Float32Array | undefined;
  /**
   * The same from index terms (`terms()` of analyze.ts: folded, stop words
   * out, stemmed), which the sections stage has already computed for every
   * unit: each stem stands for the commonest word that has it.
   */
  embedTerms(terms: readonly string[]): Float32Array | undefined;
}

export const defaultVectorsPath = (): string => join(packageRoot, 'models', 'word-vectors');

/** SIF's smoothing constant: a word of probability `a` weighs one half. */
const sifA = 1e-3;

export function loadWordVectors(folder = defaultVectorsPath()): WordVectors {
  const meta = JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')) as { dimensions: number };
  const dimensions = meta.dimensions;
  const bytes = readFileSync(join(folder, 'vectors.i8'));
  const table = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scaleBytes = readFileSync(join(folder, 'scales.f32'));
  const scales = new Float32Array(scaleBytes.buffer.slice(scaleBytes.byteOffset, scaleBytes.byteOffset + scaleBytes.byteLength));
  const list = readFileSync(join(folder, 'words.txt'), 'utf8').split('\n').filter(Boolean);
  const rows = new Map<string, number>();
  const stems = new Map<string, number>();
  list.forEach((word, row) => {
    rows.set(word, row);
    const [stem] = terms(word);
    // Commonest first: the first word to reach a stem keeps it.
    if (stem !== undefined && !stems.has(stem)) stems.set(stem, row);
  });
  // Word probability from frequency rank (Zipf's law over the table's words, commonest first).
  const harmonic = Math.log(list.length) + 0.5772;
  const weights = new Float32Array(list.length);
  for (let row = 0; row < list.length; row++) weights[row] = (sifA / (sifA + 1 / ((row + 1) * harmonic))) * scales[row]!;

  const add = (vector: Float32Array, row: number) => {
    const weight = weights[row]!;
    const offset = row * dimensions;
    for (let column = 0; column < dimensions; column++) vector[column]! += weight * table[offset + column]!;
  };
  return {
    dimensions,
    embed(text: string): Float32Array | undefined {
      let vector: Float32Array | undefined;
      for (const raw of words(text)) {
        const word = raw.replace(/['’]s$/, '');
        if (stopWords.has(word)) continue;
        const row = rows.get(word);
        if (row === undefined) continue;
        add((vector ??= new Float32Array(dimensions)), row);
      }
      return vector;
    },
    embedTerms(unitTerms: readonly string[]): Float32Array | undefined {
      let vector: Float32Array | undefined;
      for (const term of unitTerms) {
        const row = stems.get(term);
        if (row !== undefined) add((vector ??= new Float32Array(dimensions)), row);
      }
      return vector;
    },
  };
}

/** Cosine similarity of two vectors after subtracting `centre` from both (the document's common direction). */
export function centredCosine(left: Float32Array, right: Float32Array, centre: Float32Array | undefined): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    const a = left[index]! - (centre?.[index] ?? 0);
    const b = right[index]! - (centre?.[index] ?? 0);
    dot += a * b;
    leftNorm += a * a;
    rightNorm += b * b;
  }
  return leftNorm > 0 && rightNorm > 0 ? dot / Math.sqrt(leftNorm * rightNorm) : 0;
}

/** Scale to unit length, in place. */
export function normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let index = 0; index < vector.length; index++) vector[index]! /= norm;
  return vector;
}
