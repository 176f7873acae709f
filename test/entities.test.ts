import { afterAll, describe, expect, it, vi } from 'vitest';
import { DistillDocument, type Entity } from '../src/document.js';
import { sectionsOf } from '../src/sections.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { extractEntities, taskEntityWants, WorkerPool, type DocumentEntity, type ExtractEntitiesOptions } from '../stages/entities.js';
import { normalizeDate, normalizeMoney, normalizePercent, parseAmount } from '../stages/entities/normalize.js';
import { findEmails, findPhones, findUrls } from '../stages/entities/patterns.js';

const context: StageContext = { task: 'What did it cost?', model: 'gpt-4o', tokenizer: o200k };

function documentOf(text: string, format: DistillDocument['format'] = 'text'): DistillDocument {
  return new DistillDocument({ id: 'test', text, format });
}

const sample = [
  '# Budget',
  'In 1862 the Treasury under Abraham Lincoln paid $13 millions to Barings in London; receipts rose 7.5 percent.',
  'Write to jsmith@example.com, see http://www.example.com/report.html or call (555) 123-4567 before July 4, 1976.',
].join('\n\n');

describe('extractEntities options', () => {
  it.each<[string, unknown]>([
    ['types', []],
    ['types', ['person', 'people']],
    ['types', 'person'],
    ['workers', -1],
    ['workers', 1.5],
    ['maxChars', 0],
    ['referenceDate', '2024-13-01'],
    ['referenceDate', 'yesterday'],
    ['workerMemoryMb', 8],
    ['topNames', -2],
    ['backend', { run() {} }],
  ])('rejects `%s` = %j with a TypeError naming the option', (name, value) => {
    expect(() => extractEntities({ [name]: value } as ExtractEntitiesOptions)).toThrow(TypeError);
    expect(() => extractEntities({ [name]: value } as ExtractEntitiesOptions)).toThrow(`\`${name}\``);
  });

  it('names the bad value in the message', () => {
    expect(() => extractEntities({ workers: -1 })).toThrowErrorMatchingInlineSnapshot(
      `[OptionError: Expected \`workers\` to be a non-negative integer, got \`-1\` (number).]`,
    );
  });

  it('loads the tagger on load(), and only when a type needs it', async () => {
    const backend = { extract: async () => [], load: vi.fn(async () => {}), close: async () => {} };
    await extractEntities({ backend }).load!();
    expect(backend.load).toHaveBeenCalledTimes(1);
    await extractEntities({ backend, types: ['email', 'url'] }).load!();
    expect(backend.load).toHaveBeenCalledTimes(1);
  });

  it('starts no worker thread until a document arrives, and close() ends the ones it started', async () => {
    const started: { exited: Promise<number> }[] = [];
    const count = (worker: import('node:worker_threads').Worker) => started.push({ exited: new Promise((resolve) => worker.once('exit', resolve)) });
    process.on('worker', count);
    try {
      const stage = extractEntities({ workers: 2 });
      await stage.load!();
      expect(started).toHaveLength(0);
      const doc = documentOf(sample);
      await stage.run(doc, context);
      expect(doc.data.entities?.some((entity) => entity.type === 'money' && entity.text === '$13 millions')).toBe(true);
      expect(started.length).toBeGreaterThanOrEqual(1);
      await stage.close!();
      // Every thread it started has exited, not merely been asked to.
      await Promise.all(started.map((worker) => worker.exited));
    } finally {
      process.off('worker', count);
    }
  });
});

describe('extractEntities (in-process)', () => {
  // Every sentence and every type, whatever the task: these tests are about what extraction finds.
  const stage = extractEntities({ workers: 0, scope: 'all' });
  afterAll(() => stage.close!());

  it('finds typed entities per section, with normalised values', async () => {
    const doc = documentOf(sample, 'markdown');
    const before = doc.value;
    await stage.run(doc, context);
    expect(doc.value).toBe(before);
    const found = (doc.data.entities ?? []).map((entity) => [entity.type, entity.text, entity.normalized ?? null]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['date', '1862', '1862'],
        ['person', 'Abraham Lincoln', null],
        ['money', '$13 millions', '13000000 USD'],
        ['place', 'London', null],
        ['percent', '7.5 percent', 7.5],
        ['email', 'jsmith@example.com', null],
        ['url', 'http://www.example.com/report.html', null],
        ['phone', '(555) 123-4567', null],
        ['date', 'July 4, 1976', '1976-07-04'],
      ]),
    );
  });

  it('gives offsets that slice back into the section and into the text the stage saw', async () => {
    const doc = documentOf(sample, 'markdown');
    await stage.run(doc, context);
    const sections = new Map(sectionsOf(doc).map((section) => [section.id, section.text]));
    const entities = doc.data.entities as DocumentEntity[];
    expect(entities.length).toBeGreaterThan(8);
    for (const entity of entities) {
      expect(sections.get(entity.section)?.slice(entity.start, entity.end)).toBe(entity.text);
      expect(doc.value.slice(entity.documentStart, entity.documentEnd)).toBe(entity.text);
    }
  });

  it('maps offsets across whitespace the sectioniser rewrote', async () => {
    // Two sentences on separate lines in one long block: the sectioniser joins them with one space.
    const line = 'The surplus of $49,405,545.20 was applied to the debt on June 30, 1886, said Grover Cleveland.';
    const text = `${line}\n${line.replace('1886', '1887')}\n`.repeat(10);
    const doc = documentOf(text);
    await stage.run(doc, context);
    const entities = doc.data.entities as DocumentEntity[];
    expect(entities.filter((entity) => entity.type === 'money')).toHaveLength(20);
    for (const entity of entities) expect(text.slice(entity.documentStart, entity.documentEnd)).toBe(entity.text);
  });

  it('extracts only the requested types', async () => {
    const only = extractEntities({ workers: 0, types: ['money', 'email'] });
    const doc = documentOf(sample);
    await only.run(doc, context);
    expect(new Set(doc.data.entities?.map((entity) => entity.type))).toEqual(new Set(['money', 'email']));
  });

  it('runs only the exact patterns inside code blocks', async () => {
    const doc = documentOf('```\nconst price = "$5 million"; // ask John Smith at john@example.com\n```', 'markdown');
    await stage.run(doc, context);
    expect(doc.data.entities?.map((entity) => [entity.type, entity.text])).toEqual([['email', 'john@example.com']]);
  });

  it('warns and reads the first `maxChars` of an overlong section', async () => {
    const capped = extractEntities({ workers: 0, maxChars: 60 });
    const doc = documentOf('Congress paid $300 in 1901 and nobody complained at all about it. Later it paid $900,000 more.');
    await capped.run(doc, context);
    expect(doc.status).toBe('ok');
    expect(doc.messages.map((message) => message.origin)).toEqual(['entities:max-chars']);
    expect(doc.data.entities?.filter((entity) => entity.type === 'money').map((entity) => entity.text)).toEqual(['$300']);
  });

  it('writes a digest with counts by type and the most mentioned names', async () => {
    const doc = documentOf(
      'Abraham Lincoln wrote to Congress. Later, Abraham Lincoln met Ulysses Grant in Richmond. Grant paid $5 and $7.',
    );
    // Every sentence, not only those the task ("What did it cost?") has a cue in.
    await extractEntities({ workers: 0, scope: 'all' }).run(doc, context);
    const digest = doc.data.entityDigest!;
    expect(digest.total).toBe(doc.data.entities?.length);
    expect(digest.counts.money).toBe(2);
    expect(digest.top[0]).toEqual({ type: 'person', text: 'Abraham Lincoln', count: 2 });
  });

  it('resolves relative dates only against `referenceDate`', async () => {
    const text = 'The report is due next Friday, not on March 3, 2021.';
    const plain = documentOf(text);
    await stage.run(plain, context);
    const anchored = extractEntities({ workers: 0, referenceDate: '2024-01-01', types: ['date'] });
    const resolved = documentOf(text);
    await anchored.run(resolved, context);
    const dateOf = (doc: DistillDocument, fragment: string) => doc.data.entities?.find((entity) => entity.type === 'date' && entity.text.includes(fragment));
    expect(dateOf(plain, 'Friday')?.normalized).toBeUndefined();
    // compromise-dates reads "next Friday" as the Friday of next week.
    expect(dateOf(resolved, 'Friday')?.normalized).toBe('2024-01-12');
    expect(dateOf(plain, 'March')?.normalized).toBe('2021-03-03');
  });
});

describe('extractEntities (worker threads)', () => {
  it('finds the same entities as the in-process path', { timeout: 60_000 }, async () => {
    const pooled = extractEntities({ workers: 2 });
    const local = extractEntities({ workers: 0 });
    try {
      const text = Array.from({ length: 12 }, (_, index) => `${sample.replaceAll('1862', String(1850 + index))}`).join('\n\n');
      const [a, b] = [documentOf(text, 'markdown'), documentOf(text, 'markdown')];
      await Promise.all([pooled.run(a, context), local.run(b, context)]);
      expect(a.status).toBe('ok');
      expect(a.data.entities?.length).toBeGreaterThan(50);
      expect(a.data.entities).toEqual(b.data.entities);
    } finally {
      await Promise.all([pooled.close!(), local.close!()]);
    }
  });

  it('fails only the document whose worker crashed, with a clear message', { timeout: 60_000 }, async () => {
    const pool = new WorkerPool({ size: 1, workerUrl: new URL('../fixtures/entities/crash-worker.ts', import.meta.url) });
    const stage = extractEntities({ backend: pool, scope: 'all' });
    try {
      const crashing = documentOf('Paid $5 to Mary Smith. CRASH-WORKER-NOW');
      const healthy = documentOf('Paid $7 to John Smith on May 1, 1901.');
      await Promise.all([stage.run(crashing, context), stage.run(healthy, context)]);
      expect(crashing.status).toBe('error');
      expect(crashing.messages).toMatchObject([{ origin: 'entities:worker', fatal: true, code: 'E_ENTITY_WORKER' }]);
      expect(crashing.messages[0]!.reason).toMatch(/entity worker thread died while extracting: exit code 70/);
      expect(healthy.status).toBe('ok');
      expect(healthy.data.entities?.map((entity) => entity.text)).toEqual(expect.arrayContaining(['$7', 'John Smith', 'May 1, 1901']));
    } finally {
      await pool.close();
    }
  });
});

describe('normalizeMoney', () => {
  it.each([
    ['$13 millions', '13000000 USD'],
    ['$1.2 billion', '1200000000 USD'],
    ['35.8 billion dollars', '35800000000 USD'],
    ['fifty million dollars', '50000000 USD'],
    ['$49,405,545.20', '49405545.2 USD'],
    ['300 dollars and 12 cents', '300.12 USD'],
    ['75 cents', '0.75 USD'],
    ['£2.5bn', '2500000000 GBP'],
    ['€20m', '20000000 EUR'],
    ['3 billion euros', '3000000000 EUR'],
    ['a million dollars', '1000000 USD'],
    ['millions of dollars', undefined],
  ])('%s → %s', (text, expected) => {
    expect(normalizeMoney(text)).toBe(expected);
  });
});

describe('normalizeDate', () => {
  it.each([
    ['July 4, 1976', '1976-07-04'],
    ['4 July 1976', '1976-07-04'],
    ['30th day of June, 1885', '1885-06-30'],
    ['Jan. 5, 2011', '2011-01-05'],
    ['Sat, 3 Aug 2002 23:06:37 +0100', '2002-08-03'],
    ['12/25/2020', '2020-12-25'],
    ['2002-08-22', '2002-08-22'],
    ['July 1945', '1945-07'],
    ['the 1990s', '1990/1999'],
    ['fiscal year 1947', '1947'],
    ['February 30, 2001', undefined],
    ['next Friday', undefined],
  ])('%s → %s', (text, expected) => {
    expect(normalizeDate(text)).toBe(expected);
  });
});

describe('parseAmount and normalizePercent', () => {
  it.each([
    ['3,000', 3000],
    ['sixty-five thousand', 65000],
    ['two hundred fifty thousand', 250000],
    ['one million', 1000000],
    ['no digits here', undefined],
  ])('parseAmount(%s) → %s', (text, expected) => {
    expect(parseAmount(text)).toBe(expected);
  });

  it.each([
    ['7.5%', 7.5],
    ['3 per cent', 3],
    ['seven percent', 7],
  ])('normalizePercent(%s) → %s', (text, expected) => {
    expect(normalizePercent(text)).toBe(expected);
  });
});

describe('exact patterns', () => {
  it('finds e-mail addresses and URLs without trailing prose punctuation', () => {
    const text = 'Mail <ilug@linux.ie> or see http://www.linux.ie/mailman/listinfo/ilug. Also (www.fsf.org).';
    expect(findEmails(text).map((span) => text.slice(span.start, span.end))).toEqual(['ilug@linux.ie']);
    expect(findUrls(text).map((span) => text.slice(span.start, span.end))).toEqual(['http://www.linux.ie/mailman/listinfo/ilug', 'www.fsf.org']);
  });

  it.each([
    ['Call 1-800-896-6568 now', '1-800-896-6568'],
    ['*** 801-397-9010 ***', '801-397-9010'],
    ['Call Us (732) 751-1457***', '(732) 751-1457'],
    ['dial +44 20 7946 0958 today', '+44 20 7946 0958'],
  ])('finds the phone number in %j', (text, expected) => {
    expect(findPhones(text).map((span) => text.slice(span.start, span.end))).toEqual([expected]);
  });

  it.each([['the years 1861-1865'], ['id 2001051015213519:7860'], ['version 5.50.4133.2400'], ['receipts of 35,860,100,031']])(
    'finds no phone number in %j',
    (text) => {
      expect(findPhones(text)).toEqual([]);
    },
  );
});

describe('taskEntityWants', () => {
  it.each<[string, Entity['type'][], string[]]>([
    ['How much did the Department of Defense spend?', ['money', 'percent', 'number'], ['Department of Defense']],
    ['What figures does the budget give?', ['money', 'percent', 'number'], []],
    ['When is the deadline?', ['date'], []],
    ['Who met with Lincoln, Grant and NASA in "Camp David"?', ['person', 'organization'], ['Camp David', 'Lincoln', 'Grant', 'NASA']],
    ["What is IBM's price?", ['money', 'percent', 'number'], ['IBM']],
    ['Summarize the speech', [], []],
    // A sentence's capitalised first word names nothing on its own; a run of capitals there still does.
    ['Walk me through the plan. Draft a memo on what Carter asked Congress for.', [], ['Carter', 'Congress']],
    ['New Mexico: what did it get?', [], ['New Mexico']],
  ])('%j asks for %j and names %j', (task, types, names) => {
    expect(taskEntityWants(task)).toEqual({ types, names });
  });
});
