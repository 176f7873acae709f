import { mkdtemp, mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { loadFile, loadInput, readablePath, sniffFormat, walkFiles, walkInputs, type LoadOptions, type WalkOptions } from '../src/loaders/index.js';
import { nodeFileSystem, type WalkFileSystem } from '../src/loaders/walk.js';
import { createPipeline } from '../src/pipeline.js';
import { htmlToText } from '../src/loaders/html.js';
import { countTokens } from '../src/tokens.js';

const docs = new URL('../fixtures/docs/', import.meta.url).pathname;

describe('loaders', () => {
  it('loads an email as every header line and the chosen body, decoded', async () => {
    const doc = await loadFile(join(docs, 'email/forteana-reply.eml'));
    expect(doc.status).toBe('ok');
    expect(doc.format).toBe('email');
    const raw = await readFile(join(docs, 'email/forteana-reply.eml'), 'latin1');
    const headerCount = raw.slice(0, raw.indexOf('\n\n')).split('\n').filter((line) => /^[\w-]+:/.test(line)).length;
    const [headerBlock] = doc.value.split('\n\n');
    expect(headerBlock!.split('\n').length).toBe(headerCount);
    expect(doc.value).toMatch(/^Subject: /m);
    expect(doc.value).toContain('Stewart Smith');
  });

  it('prefers text/plain over text/html in multipart/alternative', async () => {
    const mime = [
      'From: Ann <ann@example.org>',
      'To: bob@example.org',
      'Subject: =?utf-8?q?Caf=C3=A9_budget?=',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'The caf=C3=A9 budget is $4,200.',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<p>HTML ONLY VERSION</p>').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');
    const doc = await loadInput({ id: 'mime', bytes: new TextEncoder().encode(mime) });
    expect(doc.format).toBe('email');
    expect(doc.value).toContain('Subject: Café budget');
    expect(doc.value).toContain('The café budget is $4,200.');
    expect(doc.value).not.toContain('HTML ONLY');
  });

  it('keeps PDF page boundaries as form feeds', async () => {
    const doc = await loadFile(join(docs, 'manuals/shared-mime-info-spec.pdf'));
    expect(doc.status).toBe('ok');
    expect(doc.metadata.pages).toBe(17);
    expect(doc.value.split('\f')).toHaveLength(17);
  });

  it('turns HTML into Markdown-like text with a parser, dropping scripts', () => {
    const { text, title } = htmlToText(
      '<html><head><title>T</title><style>p{}</style></head><body><h2>Costs &amp; dates</h2><script>var x = "<p>no</p>";</script><ul><li>one</li><li>two</li></ul><p>Due <b>3 May</b>.</p></body></html>',
    );
    expect(title).toBe('T');
    expect(text).toBe('## Costs & dates\n\n- one\n- two\n\nDue 3 May.');
  });

  it('fences <pre> as Markdown code, so the comments in it stay code', () => {
    const { text } = htmlToText('<body><h2>Example</h2><pre>\n# a comment\n[tools]\n\n  strict = false\n</pre><p>Done.</p></body>');
    expect(text).toBe('## Example\n\n```\n# a comment\n[tools]\n\n  strict = false\n```\n\nDone.');
  });

  it('counts tokens.original on the text as loaded', async () => {
    const doc = await loadFile(join(docs, 'manuals/systemd-distro-porting.md'));
    expect(doc.original).toBe(await readFile(join(docs, 'manuals/systemd-distro-porting.md'), 'utf8'));
    expect(countTokens(doc.original)).toBeGreaterThan(500);
  });

  it.each([
    ['%PDF-1.4\n', 'pdf'],
    ['<!DOCTYPE html><html>', 'html'],
    ['Received: from x\nFrom: a@b.c\nSubject: hi\n\nbody', 'email'],
    ['Just some words: here.', undefined],
  ])('sniffs %j as %s', (head, format) => {
    expect(sniffFormat(new TextEncoder().encode(head))).toBe(format);
  });

  it('gives every bad file a record with a clear message', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'distill-bad-'));
    const pdf = await readFile(join(docs, 'manuals/shared-mime-info-spec.pdf'));
    await writeFile(join(folder, 'corrupt.pdf'), pdf.subarray(0, 3000));
    await writeFile(join(folder, 'empty.txt'), '');
    await writeFile(join(folder, 'binary.txt'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 3, 0, 255, 254]));
    await writeFile(join(folder, 'slides.pptx'), 'PK\u0003\u0004 not really');
    const results = new Map<string, Awaited<ReturnType<typeof loadFile>>>();
    for await (const path of walkFiles(folder)) results.set(relative(folder, readablePath(path)), await loadFile(path));
    expect([...results.keys()].sort()).toEqual(['binary.txt', 'corrupt.pdf', 'empty.txt', 'slides.pptx']);
    expect(results.get('corrupt.pdf')!.status).toBe('error');
    expect(results.get('corrupt.pdf')!.messages[0]!.reason).toMatch(/cannot parse PDF/);
    expect(results.get('empty.txt')!.status).toBe('skipped');
    expect(results.get('empty.txt')!.messages[0]!.reason).toMatch(/empty file/);
    expect(results.get('binary.txt')!.status).toBe('error');
    expect(results.get('binary.txt')!.messages[0]!.reason).toMatch(/binary/);
    expect(results.get('slides.pptx')!.status).toBe('skipped');
    expect(results.get('slides.pptx')!.messages[0]!.reason).toMatch(/unsupported file type ".pptx"/);
    for (const doc of results.values()) expect(doc.source.startsWith(folder)).toBe(true);
  });

  it('walks recursively, skips hidden entries and never follows a link out of the root', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'distill-outside-'));
    await writeFile(join(outside, 'secret.txt'), 'outside');
    const root = await mkdtemp(join(tmpdir(), 'distill-root-'));
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'a/b/deep.txt'), 'deep');
    await writeFile(join(root, '.hidden.txt'), 'hidden');
    await mkdir(join(root, '.git'));
    await writeFile(join(root, '.git/config'), 'x');
    await symlink(outside, join(root, 'escape'));
    await symlink(join(root, 'a'), join(root, 'loop'));
    await writeFile(join(root, 'top.md'), '# top');
    const seen: string[] = [];
    for await (const path of walkFiles(root)) seen.push(relative(root, readablePath(path)));
    expect(seen).toEqual(['a/b/deep.txt', 'top.md']);
  });
});

/** Walk a folder and load every entry, as the CLI does: one document per input, keyed by its path under the root. */
async function recordsOf(root: string, options: WalkOptions & LoadOptions = {}): Promise<Map<string, DistillDocument>> {
  const records = new Map<string, DistillDocument>();
  for await (const entry of walkInputs(root, options)) {
    const doc = entry instanceof DistillDocument ? entry : await loadFile(entry.path, entry.id, options);
    const name = relative(root, doc.source);
    expect(records.has(name), `one record for ${name}`).toBe(false);
    records.set(name, doc);
  }
  return records;
}

/** Status and the reason up to its first colon, per input: what a reader of the records sees first. */
function outcomes(records: Map<string, DistillDocument>): string[] {
  return [...records].map(([name, doc]) => `${name}: ${doc.status}${doc.status === 'ok' ? '' : ` (${doc.messages.at(-1)!.reason.split(':')[0]})`}`);
}

describe('loaders: every input gets a record', () => {
  it('gives every symlink a record: links to files inside are followed, loops, dangling links and links out of the folder are skipped', async () => {
    const base = await mkdtemp(join(tmpdir(), 'distill-links-'));
    const root = join(base, 'notes');
    await mkdir(join(root, '2024'), { recursive: true });
    await mkdir(join(base, 'elsewhere'));
    await writeFile(join(base, 'elsewhere/passwords.txt'), 'not for the model');
    await writeFile(join(root, '2024/budget.md'), '# Budget\n\nThe 2024 budget is $12,000.\n');
    await symlink('2024/budget.md', join(root, 'current.md'));
    await symlink('..', join(root, '2024/up'));
    await symlink('self', join(root, 'self'));
    await symlink('drafts/gone.md', join(root, 'old-draft.md'));
    await symlink(join(base, 'elsewhere/passwords.txt'), join(root, 'passwords.txt'));
    await symlink(join(base, 'elsewhere'), join(root, 'elsewhere'));
    await symlink('2024', join(root, 'this-year'));
    const records = await recordsOf(root);
    expect(outcomes(records)).toMatchInlineSnapshot(`
      [
        "2024/budget.md: ok",
        "2024/up: skipped (symlink loop)",
        "current.md: ok",
        "elsewhere: skipped (points outside the folder)",
        "old-draft.md: skipped (dangling symlink)",
        "passwords.txt: skipped (points outside the folder)",
        "self: skipped (symlink loop)",
        "this-year: skipped (symlink to a folder that is read already)",
      ]
    `);
    expect(records.get('current.md')!.value).toContain('$12,000');
    for (const doc of records.values()) if (doc.status === 'skipped') expect(doc.messages.at(-1)!.fix).toBeTruthy();
    expect(records.get('old-draft.md')!.messages[0]!.reason).toContain('drafts/gone.md');
    expect(records.get('passwords.txt')!.messages[0]!.reason).toContain(join(base, 'elsewhere/passwords.txt'));
  });

  it('reads file and folder names that are not UTF-8, and shows them readably', async () => {
    const root = await mkdtemp(join(tmpdir(), 'distill-latin1-'));
    // Names written byte for byte as Latin-1, as an old archive or a Windows share leaves them.
    const bytes = (path: string) => Buffer.from(path, 'latin1');
    await writeFile(bytes(join(root, 'caf\u00e9-menu.txt')), 'Soup of the day: 4.50 EUR.\n');
    await mkdir(bytes(join(root, 'r\u00e9sum\u00e9s')));
    await writeFile(bytes(join(root, 'r\u00e9sum\u00e9s/cv.md')), '# Ana Lima\n\nEngineer since 2015.\n');
    const records = await recordsOf(root);
    expect(outcomes(records)).toEqual(['café-menu.txt: ok', 'résumés/cv.md: ok']);
    expect(records.get('café-menu.txt')!.value).toBe('Soup of the day: 4.50 EUR.\n');
    expect(records.get('café-menu.txt')!.messages).toMatchObject([{ origin: 'load:file-name', fatal: false, reason: expect.stringMatching(/not valid UTF-8/) }]);
  });

  it('gives an unreadable folder one error record and walks on', async () => {
    const root = await mkdtemp(join(tmpdir(), 'distill-locked-'));
    for (const name of ['a', 'locked', 'z']) await mkdir(join(root, name));
    await writeFile(join(root, 'a/agenda.txt'), 'Agenda for 3 May.');
    await writeFile(join(root, 'locked/salaries.txt'), 'Salaries.');
    await writeFile(join(root, 'z/zoning.txt'), 'Zoning notes.');
    // Root reads any folder whatever its mode, so the refusal is injected where the walk reads a folder.
    const fileSystem: WalkFileSystem = {
      ...nodeFileSystem,
      readdir: async (path) => {
        if (path.toString().endsWith('/locked')) throw Object.assign(new Error(`EACCES: permission denied, scandir '${path.toString()}'`), { code: 'EACCES' });
        return nodeFileSystem.readdir(path);
      },
    };
    const records = await recordsOf(root, { fileSystem });
    expect(outcomes(records)).toEqual(['a/agenda.txt: ok', 'locked: error (cannot read folder)', 'z/zoning.txt: ok']);
    expect(records.get('locked')!.messages[0]).toMatchObject({ fatal: true, code: 'E_READ_FOLDER', fix: expect.stringMatching(/permission/) });
  });

  it.each([
    ['README', 'ok', 'text', Buffer.from('Install with `make install`.\nReport bugs to the list.\n')],
    ['LICENSE', 'ok', 'text', Buffer.from('Copyright \u00a9 2024 J\u00f6rg M\u00fcller. All rights reserved.\n', 'latin1')],
    ['core', 'skipped', 'text', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0])],
  ])('sniffs a file with no extension: %s is %s', async (name, status, format, content) => {
    const root = await mkdtemp(join(tmpdir(), 'distill-noext-'));
    await writeFile(join(root, name), content);
    const doc = await loadFile(join(root, name));
    expect(doc.status).toBe(status);
    expect(doc.format).toBe(format);
    if (status === 'ok') expect(doc.value.length).toBeGreaterThan(20);
    else expect(doc.messages.at(-1)!.reason).toMatch(/unsupported file type \(no extension, and the content is not text\)/);
  });

  const minutes = 'Minutes of 3 May 2024\r\n\r\nPresent: Zo\u00eb, Ana, Bob.\r\nThe budget of \u20ac4,200 was approved.\r\n';
  const utf16le = (text: string) => Buffer.from(text, 'utf16le');
  const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();

  it.each([
    ['UTF-16LE with a BOM', utf16le(`\ufeff${minutes}`)],
    ['UTF-16BE with a BOM', utf16be(`\ufeff${minutes}`)],
    ['UTF-16LE without a BOM', utf16le(minutes)],
    ['UTF-16BE without a BOM', utf16be(minutes)],
  ])('decodes %s', async (_, content) => {
    const root = await mkdtemp(join(tmpdir(), 'distill-utf16-'));
    await writeFile(join(root, 'minutes.txt'), content);
    const doc = await loadFile(join(root, 'minutes.txt'));
    expect(doc.status).toBe('ok');
    expect(doc.value).toBe(minutes.replace(/\r\n/g, '\n'));
  });

  it('sniffs and decodes a UTF-16 HTML page', async () => {
    const doc = await loadInput({ id: 'page', bytes: utf16le('\ufeff<!DOCTYPE html><html><head><title>Rota</title></head><body><p>Zo\u00eb is on call.</p></body></html>') });
    expect(doc).toMatchObject({ status: 'ok', format: 'html' });
    expect(doc.value).toBe('# Rota\n\nZoë is on call.');
  });

  const headers = (contentType: string) =>
    ['From: Ann Lee <ann@example.org>', 'To: finance@example.org', 'Subject: Q3 figures', 'Date: Mon, 3 Jun 2024 10:00:00 +0000', 'MIME-Version: 1.0', `Content-Type: ${contentType}`, ''].join('\r\n');
  const parts = ['--=_part_1', 'Content-Type: text/plain; charset=utf-8', '', 'Revenue was $4.2M in Q3, up 8%.', '--=_part_1--', ''].join('\r\n');

  it.each([
    ['no boundary parameter', 'multipart/mixed', /multipart\/mixed has no boundary/],
    ['a boundary the body never uses', 'multipart/mixed; boundary="=_part_9"', /the boundary "=_part_9" of multipart\/mixed never appears in the body/],
  ])('keeps the raw body of a multipart message with %s, with a warning', async (_, contentType, reason) => {
    const doc = await loadInput({ id: 'q3.eml', bytes: new TextEncoder().encode(`${headers(contentType)}\r\n${parts}`) });
    expect(doc.status).toBe('ok');
    expect(doc.value).toMatch(/^Subject: Q3 figures$/m);
    expect(doc.value).toContain('Revenue was $4.2M in Q3, up 8%.');
    expect(doc.messages).toMatchObject([{ origin: 'load:mime-malformed', fatal: false, reason: expect.stringMatching(reason), fix: expect.any(String) }]);
  });

  it('keeps the text parts read from a message with more MIME parts than the parser allows, naming the limit', async () => {
    const body: string[] = [];
    for (let index = 1; index <= 5000; index++) {
      body.push('--=_line', 'Content-Type: text/plain; charset=us-ascii', '', `Line item ${index}: ${index % 7} x widget at $2.50.`);
    }
    body.push('--=_line--', '');
    const doc = await loadInput({ id: 'invoice.eml', bytes: new TextEncoder().encode(`${headers('multipart/mixed; boundary="=_line"')}\r\n${body.join('\r\n')}`) });
    expect(doc.status).toBe('ok');
    expect(doc.value).toContain('Line item 1: 1 x widget at $2.50.');
    expect(doc.value).toContain('Line item 999:');
    expect(doc.value).not.toContain('Line item 4999:');
    expect(doc.messages).toMatchObject([{ origin: 'load:mime-parts', fatal: false, reason: expect.stringMatching(/5,000 MIME parts.*1,000/) }]);
    expect(JSON.stringify(doc.messages)).not.toMatch(/RFC 822/);
  });

  it('keeps the raw body when nested MIME parts pass the limit', async () => {
    const inner: string[] = [];
    for (let index = 1; index <= 1200; index++) inner.push('--=_inner', 'Content-Type: text/plain', '', `Reading ${index}: ${20 + (index % 9)} degrees.`);
    const body = ['--=_outer', 'Content-Type: multipart/mixed; boundary="=_inner"', '', ...inner, '--=_inner--', '--=_outer--', ''];
    const doc = await loadInput({ id: 'sensor.eml', bytes: new TextEncoder().encode(`${headers('multipart/mixed; boundary="=_outer"')}\r\n${body.join('\r\n')}`) });
    expect(doc.status).toBe('ok');
    expect(doc.value).toContain('Reading 1200: 23 degrees.');
    expect(doc.messages).toMatchObject([{ origin: 'load:mime-parts', reason: expect.stringMatching(/more than 1,000 MIME parts, nested ones included.*raw body is kept/) }]);
  });

  it('skips a file larger than maxBytes without reading it, naming --max-bytes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'distill-big-'));
    await writeFile(join(root, 'log.txt'), 'GET /index.html 200\n'.repeat(200));
    const doc = await loadFile(join(root, 'log.txt'), undefined, { maxBytes: 1000 });
    expect(doc.status).toBe('skipped');
    expect(doc.messages.at(-1)).toMatchObject({ origin: 'load:max-bytes', reason: expect.stringMatching(/4,000 bytes.*--max-bytes \(1,000 bytes\)/), fix: expect.stringMatching(/--max-bytes/) });
    // The default is 50 MB; a sparse file has that size without taking the disk space.
    await writeFile(join(root, 'mailbox.txt'), '');
    await truncate(join(root, 'mailbox.txt'), 60_000_000);
    expect((await loadFile(join(root, 'mailbox.txt'))).messages.at(-1)!.reason).toMatch(/60\.0 MB.*--max-bytes \(50\.0 MB\)/);
    const pipeline = createPipeline({ task: 'Summarise', stages: [], llm: false, maxBytes: 1000 });
    expect((await pipeline.load({ path: join(root, 'log.txt') })).status).toBe('skipped');
    await pipeline.close();
  });

  it.each([0, -1, 1.5, '50MB'])('rejects maxBytes %j when the pipeline is made', (maxBytes) => {
    expect(() => createPipeline({ task: 'Summarise', maxBytes: maxBytes as number })).toThrow(/Expected `maxBytes` to be a positive integer/);
  });
});
