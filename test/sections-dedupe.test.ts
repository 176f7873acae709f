import { describe, expect, it } from 'vitest';
import { seededRandom } from '../bench/corpora.js';
import { ShingleIndex, shinglesOf } from '../stages/sections/dedupe.js';

/** The plain definition `find` must keep: the entry sharing the most shingles (the earliest on a tie), if it holds `threshold` of them. */
function bruteForce(entries: readonly Set<number>[], query: ReadonlySet<number>, threshold: number): number | undefined {
  let best: number | undefined;
  let bestCount = 0;
  entries.forEach((entry, index) => {
    let count = 0;
    for (const shingle of query) if (entry.has(shingle)) count++;
    if (count > bestCount) {
      best = index;
      bestCount = count;
    }
  });
  return best !== undefined && bestCount / query.size >= threshold ? best : undefined;
}

describe('ShingleIndex', () => {
  it('finds what a brute-force scan finds, over random sets with common and rare shingles', () => {
    const random = seededRandom(3);
    // A small vocabulary of common shingles and a large one of rare ones, as in prose.
    const draw = () => (random() < 0.4 ? Math.floor(random() * 20) : 1000 + Math.floor(random() * 5000));
    const entries: Set<number>[] = [];
    const index = new ShingleIndex();
    let found = 0;
    for (let round = 0; round < 1500; round++) {
      let query: Set<number>;
      if (entries.length > 0 && random() < 0.5) {
        // A near copy of an earlier set: most of it, plus a few new shingles.
        const base = [...entries[Math.floor(random() * entries.length)]!];
        query = new Set(base.filter(() => random() < 0.9));
        for (let extra = Math.floor(random() * 4); extra > 0; extra--) query.add(draw());
      } else {
        query = new Set(Array.from({ length: 8 + Math.floor(random() * 40) }, draw));
      }
      for (const threshold of [0.5, 0.8, 1]) {
        const expected = bruteForce(entries, query, threshold);
        expect(index.find(query, threshold)).toBe(expected === undefined ? undefined : `e${expected}`);
        if (expected !== undefined) found++;
      }
      entries.push(query);
      index.add(query, `e${entries.length - 1}`);
    }
    // The comparison is only worth something if both answers occur often.
    expect(found).toBeGreaterThan(500);
    expect(found).toBeLessThan(4000);
  });

  it('gives no shingles to a text too short to judge, and the same ones to the same words in any case', () => {
    expect(shinglesOf('Too short to judge.', 8).size).toBe(0);
    const text = 'The Congress of the United States shall assemble at least once in every year, on the first Monday.';
    expect(shinglesOf(text, 8)).toEqual(shinglesOf(text.toUpperCase(), 8));
  });
});
