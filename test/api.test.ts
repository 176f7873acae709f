import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as distill from '../src/index.js';

const root = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

describe('public API', () => {
  it('exports exactly the documented names', () => {
    expect(Object.keys(distill).sort()).toMatchInlineSnapshot(`
      [
        "ApiError",
        "DistillDocument",
        "DistillError",
        "LoadError",
        "ModelLoadError",
        "OptionError",
        "SpendWatch",
        "StageError",
        "UsageError",
        "buildReport",
        "callModel",
        "classifySections",
        "costOf",
        "countTokens",
        "createPipeline",
        "createStage",
        "defaultPrices",
        "extractEntities",
        "filterBoilerplate",
        "loadFile",
        "loadInput",
        "o200k",
        "priceOf",
        "runStage",
        "sectionize",
        "sectionsOf",
        "selectSections",
        "setSections",
        "stageNames",
        "stream",
        "walkFiles",
        "walkInputs",
      ]
    `);
  });

  it('runs a single stage on an in-memory document with metrics', async () => {
    const doc = await distill.runStage(distill.filterBoilerplate(), {
      id: 'mail',
      format: 'email',
      text: 'From: a@example.org\nSubject: Rent\nReceived: from x by y; Mon, 1 Jan 2024\nX-Mailer: Foo 1.0\n\nRent of $1,200 is due on 1 March.\n',
    });
    expect(doc.status).toBe('ok');
    expect(doc.value).toContain('Rent of $1,200 is due on 1 March.');
    expect(doc.stages[0]!.stage).toBe('regex');
    expect(doc.stages[0]!.tokensOut).toBeLessThan(doc.stages[0]!.tokensIn);
  });

  it('processes one document and streams many through createPipeline', async () => {
    const pipeline = distill.createPipeline({ task: 'What is due and when?', budget: 100, dryRun: true, stages: ['regex', 'sections'] });
    const text = 'Rent of $1,200 is due on 1 March. '.repeat(40);
    const one = await pipeline.process({ id: 'one', text });
    expect(one.tokens.original).toBe(distill.o200k.count(text));
    expect(one.tokens.distilled).toBeLessThanOrEqual(100);
    expect(one.tokens.distilled).toBe(distill.o200k.count(one.distilled));
    const ids: string[] = [];
    for await (const record of pipeline.run([{ id: 'a', text: 'Alpha.' }, { id: 'b', text: '' }, { id: 'c', text: 'Gamma.' }])) ids.push(`${record.id}:${record.status}`);
    expect(ids).toEqual(['a:ok', 'b:skipped', 'c:ok']);
    await pipeline.close();
  });

  it('reads only as fast as a slow consumer takes records (backpressure)', async () => {
    let pulled = 0;
    const total = 2000;
    const source = Readable.from(
      (function* () {
        for (let index = 0; index < total; index++) {
          pulled++;
          yield { id: String(index), text: `Document ${index} costs $${index}.` };
        }
      })(),
      { highWaterMark: 1 },
    );
    let consumed = 0;
    let stalled: () => void = () => undefined;
    const stalls = new Promise<void>((resolve) => (stalled = resolve));
    const sink = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(_record, _encoding, done) {
        consumed++;
        // A slow sink: it takes 20 records, then never finishes the 20th.
        if (consumed < 20) setImmediate(done);
        else stalled();
      },
    });
    const controller = new AbortController();
    const running = streamPipeline(source, distill.stream({ task: 'costs', dryRun: true, stages: ['regex'], concurrency: 2 }), sink, { signal: controller.signal }).catch(() => {});
    // Abort once the sink has stalled, however long the pipeline took to get there, and after giving an unbounded
    // reader time to run ahead: without backpressure the 2,000 tiny documents are all pulled long before.
    await stalls;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const pulledWhileStalled = pulled;
    controller.abort();
    await running;
    expect(consumed).toBe(20);
    expect(pulledWhileStalled).toBeLessThan(200);
  });

  it('rejects bad options at construction, naming the option and value', () => {
    expect(() => distill.createPipeline({ task: '' })).toThrow('Expected `task` to be a non-empty string, got ``');
    expect(() => distill.createPipeline({ task: 'x', budget: -3 })).toThrow('Expected `budget` to be a positive integer, got `-3`');
    expect(() => distill.createPipeline({ task: 'x', stages: ['regex', 'magic' as never] })).toThrow(/Expected `stages` to be a list of regex, entities, classify, sections/);
  });
});

describe('examples', () => {
  it('etl-jsonl.mjs turns a JSONL export into JSONL records under the budget', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'distill-etl-'));
    const input = join(folder, 'in.jsonl');
    const output = join(folder, 'out.jsonl');
    const speech = (await readFile(join(root, 'fixtures/docs/speeches/1962_john_f_kennedy_d.txt'), 'utf8')).slice(0, 20_000);
    await writeFile(input, `${JSON.stringify({ id: 'speech', text: speech })}\n${JSON.stringify({ id: 'note', text: 'Pay $300 by Friday.' })}\n`);
    await run(process.execPath, [join(root, 'examples/etl-jsonl.mjs'), input, output], { cwd: root });
    const records = (await readFile(output, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(records.map((record) => record.id)).toEqual(['speech', 'note']);
    for (const record of records) expect(record.tokens.distilled).toBeLessThanOrEqual(300);
    expect(records[1].distilled).toContain('$300');
  }, 120_000);

  it('stream-pipeline.mjs prints one line per document', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'examples/stream-pipeline.mjs')], { cwd: root });
    expect(stdout.trim().split('\n')).toEqual([expect.stringMatching(/^invoice-7: ok, \d+ → \d+ tokens$/), expect.stringMatching(/^memo-2: ok, \d+ → \d+ tokens$/)]);
  }, 120_000);

  it('single-stage.mjs strips transport headers and keeps the facts', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'examples/single-stage.mjs')], { cwd: root });
    expect(stdout).toContain('The Q3 budget is $48,000; please confirm by 30 September.');
    expect(stdout).not.toContain('Received:');
    const [, before, after] = /regex: (\d+) → (\d+) tokens/.exec(stdout)!;
    expect(Number(after)).toBeLessThan(Number(before));
  }, 60_000);

  it('the README shows the code the examples run', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    for (const example of ['etl-jsonl.mjs', 'stream-pipeline.mjs', 'single-stage.mjs']) {
      const code = (await readFile(join(root, 'examples', example), 'utf8')).trim();
      expect(readme, `README shows examples/${example}`).toContain(code);
    }
  });
});
