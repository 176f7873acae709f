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
  const folded = words(text);
  const shingles = new Set<number>();
  for (let index = 0; index + shingleSize <= folded.length; index++) {
    shingles.add(hash(folded.slice(index, index + shingleSize).join(' ')));
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

  /** The label of an earlier entry holding at least `threshold` of `shingles`, if any. */
  find(shingles: ReadonlySet<number>, threshold: number): string | undefined {
    if (shingles.size === 0) return undefined;
    const overlap = new Map<number, number>();
    for (const shingle of shingles) {
      const posting = this.#postings.get(shingle);
      if (!posting) continue;
      for (const entry of posting) overlap.set(entry, (overlap.get(entry) ?? 0) + 1);
    }
    let best: number | undefined;
    let bestCount = 0;
    for (const [entry, count] of overlap) {
      if (count > bestCount) {
        best = entry;
        bestCount = count;
      }
    }
    return best !== undefined && bestCount / shingles.size >= threshold ? this.#labels[best] : undefined;
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
