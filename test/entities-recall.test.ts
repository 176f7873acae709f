import { readdirSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistillDocument, type DocumentFormat, type Entity } from '../src/document.js';
import { o200k } from '../src/tokens.js';
import { extractEntities, type DocumentEntity } from '../stages/entities.js';

/**
 * Recall of the entities stage on hand-annotated real text (SOTU speeches,
 * SpamAssassin mails) in every loaded format. An annotation is found when an
 * entity of the same type covers at least half of its characters, so "Marshal
 * Stalin" finds "Stalin" but "one million" does not find "one million young
 * Americans".
 */

const root = new URL('../fixtures/entities/', import.meta.url);

interface Annotation {
  type: Entity['type'];
  text: string;
  /** Which occurrence of `text` in the input is meant, from 1. */
  occurrence?: number;
}

interface Case {
  name: string;
  format: DocumentFormat;
  text: string;
  annotations: Annotation[];
}

function loadCases(): Case[] {
  return readdirSync(root)
    .filter((name) => statSync(new URL(name, root)).isDirectory())
    .sort()
    .map((name) => {
      const folder = new URL(`${name}/`, root);
      const input = readdirSync(folder).find((file) => file.startsWith('input.'))!;
      const config = JSON.parse(readFileSync(new URL('config.json', folder), 'utf8')) as { format: DocumentFormat };
      const expected = JSON.parse(readFileSync(new URL('expected.json', folder), 'utf8')) as { entities: Annotation[] };
      return { name, format: config.format, text: readFileSync(new URL(input, folder), 'utf8'), annotations: expected.entities };
    });
}

function locate(text: string, annotation: Annotation): { start: number; end: number } {
  let start = -1;
  for (let count = 0; count < (annotation.occurrence ?? 1); count++) {
    start = text.indexOf(annotation.text, start + 1);
    if (start < 0) throw new Error(`annotation ${JSON.stringify(annotation)} is not in the input`);
  }
  return { start, end: start + annotation.text.length };
}

const cases = loadCases();
const tally = new Map<Entity['type'], { found: number; total: number; missed: string[] }>();
const stage = extractEntities({ workers: 2, scope: 'all' });

beforeAll(async () => {
  for (const fixture of cases) {
    const doc = new DistillDocument({ id: fixture.name, text: fixture.text, format: fixture.format });
    await stage.run(doc, { task: '', model: 'gpt-4o', tokenizer: o200k });
    if (doc.status !== 'ok') throw new Error(`${fixture.name}: ${doc.messages.map((message) => message.reason).join('; ')}`);
    const entities = doc.data.entities as DocumentEntity[];
    for (const annotation of fixture.annotations) {
      const span = locate(fixture.text, annotation);
      const hit = entities.some(
        (entity) =>
          entity.type === annotation.type &&
          entity.documentStart !== undefined &&
          entity.documentEnd !== undefined &&
          Math.min(span.end, entity.documentEnd) - Math.max(span.start, entity.documentStart) >= annotation.text.length / 2,
      );
      const row = tally.get(annotation.type) ?? { found: 0, total: 0, missed: [] };
      row.total++;
      if (hit) row.found++;
      else row.missed.push(`${fixture.name}: ${annotation.text}`);
      tally.set(annotation.type, row);
    }
  }
  const table = [...tally].map(([type, row]) => ({ type, found: row.found, total: row.total, recall: `${((100 * row.found) / row.total).toFixed(1)}%` }));
  console.table(table);
}, 120_000);

afterAll(() => stage.close!());

describe('entities recall on annotated fixtures', () => {
  it('has at least 40 annotated entities across text, markdown, html-like and email inputs', () => {
    expect(cases.reduce((sum, fixture) => sum + fixture.annotations.length, 0)).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((fixture) => fixture.format))).toEqual(new Set(['text', 'markdown', 'html', 'email']));
  });

  it.each<Entity['type']>(['money', 'date', 'person'])('finds at least 90%% of annotated %s entities', (type) => {
    const row = tally.get(type)!;
    expect(row.total).toBeGreaterThanOrEqual(10);
    expect(row.found / row.total, `missed: ${row.missed.join(' | ')}`).toBeGreaterThanOrEqual(0.9);
  });

  it.each<Entity['type']>(['email', 'url', 'phone'])('finds every annotated %s (exact patterns)', (type) => {
    const row = tally.get(type)!;
    expect(row.missed).toEqual([]);
  });
});
