import { words } from './analyze.js';

/**
 * Near-duplicate detection by word shingles. Quoted replies, repeated
 * disclaimers, the same paragraph on every PDF page: each costs tokens again
 * and tells the model nothing new. A section is a near duplicate when most
 * of its shingles were already seen (containment, not Jaccard, so a quoted
 * excerpt of a longer paragraph counts too).
 */

/** Words per shingle: three keeps "the United States" apart from "the United Nations" cheaply. */
const shingleSize = 3;

/** Hashed word shingles of `text`. Texts too short to judge get an empty set. */
export function shinglesOf(text: string, minimumShingles: number): Set<number> {
  // Each word hashed once, then combined three at a time: no joined strings to build and hash again.
  const hashes = words(text).map(hash);
  const shingles = new Set<number>();
  for (let index = 0; index + shingleSize <= hashes.length; index++) {
    let value = 0x811c9dc5;
    for (let offset = 0; offset < shingleSize; offset++) value = Math.imul(value ^ hashes[index + offset]!, 0x01000193);
    shingles.add(value >>> 0);
  }
  return shingles.size >= minimumShingles ? shingles : new Set();
}

/** FNV-1a, 32 bit: collisions only ever make two texts look a little more alike. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

/** An index of the shingle sets seen so far; `find` answers which earlier entry a new set nearly repeats. */
export class ShingleIndex {
  #postings = new Map<number, number[]>();
  #labels: string[] = [];
  #entries = 0;
  readonly #maxEntries: number;

  constructor(maxEntries = 200_000) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries;
  }

  /** The label of the earlier entry sharing the most of `shingles`, if it holds at least `threshold` of them (the earliest, on a tie). */
  find(shingles: ReadonlySet<number>, threshold: number): string | undefined {
    if (shingles.size === 0) return undefined;
    // Common shingles ("of the United") have postings as long as the run. An entry holding `threshold` of the
    // shingles misses at most the rest, so it appears in the postings of any `size - floor(threshold * size) + 1`
    // of them: candidates come from the rarest that many, and each is then counted exactly over all of them.
    const postings: number[][] = [];
    for (const shingle of shingles) {
      const posting = this.#postings.get(shingle);
      if (posting) postings.push(posting);
    }
    const needed = Math.max(1, Math.ceil(threshold * shingles.size - 1e-9));
    if (postings.length < needed) return undefined;
    postings.sort((left, right) => left.length - right.length);
    const candidates = new Set<number>();
    for (const posting of postings.slice(0, postings.length - needed + 1)) for (const entry of posting) candidates.add(entry);
    let best: number | undefined;
    let bestCount = 0;
    for (const entry of candidates) {
      let count = 0;
      for (const posting of postings) if (holds(posting, entry)) count++;
      if (count > bestCount || (count === bestCount && best !== undefined && entry < best)) {
        best = entry;
        bestCount = count;
      }
    }
    return best !== undefined && bestCount >= needed ? this.#labels[best] : undefined;
  }

  add(shingles: ReadonlySet<number>, label: string): void {
    if (shingles.size === 0) return;
    // A run over many thousands of files must stay flat in memory: past the cap, start over.
    if (this.#entries >= this.#maxEntries) this.clear();
    const entry = this.#entries++;
    this.#labels[entry] = label;
    for (const shingle of shingles) {
      const posting = this.#postings.get(shingle);
      if (posting) posting.push(entry);
      else this.#postings.set(shingle, [entry]);
    }
  }

  clear(): void {
    this.#postings.clear();
    this.#labels = [];
    this.#entries = 0;
  }
}

/** Whether the ascending list `posting` holds `entry` (binary search: postings are appended in entry order). */
function holds(posting: readonly number[], entry: number): boolean {
  let low = 0;
  let high = posting.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = posting[middle]!;
    if (value === entry) return true;
    if (value < entry) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}
