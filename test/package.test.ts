import { execFile } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * What a user installs: pack the project, install the tarball into a fresh
 * project, and import it as ESM with types. This is the only honest check
 * that `files`, `exports` and the shipped model are right.
 */
const root = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

describe('package', () => {
  it('packs, installs into a fresh project, and runs createPipeline and a single stage from the import', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'distill-pack-'));
    // Packs the dist/ the global setup built: `prepare` would rebuild it while other test files import it.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', folder], { cwd: root });
    const tarball = (await readdir(folder)).find((name) => name.endsWith('.tgz'))!;
    const project = join(folder, 'app');
    await run('mkdir', ['-p', project]);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await writeFile(join(project, '.npmrc'), 'onnxruntime-node-install=skip\nfund=false\naudit=false\n');
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(folder, tarball)], { cwd: project, maxBuffer: 1 << 26 });
    await writeFile(
      join(project, 'main.mjs'),
      `import { createPipeline, filterBoilerplate, runStage } from 'distill';
const pipeline = createPipeline({ task: 'How much is due, and when?', budget: 60, dryRun: true });
const record = await pipeline.process({ id: 'inv', text: 'Invoice 7 from Acme Corp. Total due: $4,200 by 3 May 2024.\\n\\n--\\nJane Doe' });
await pipeline.close();
const doc = await runStage(filterBoilerplate(), { id: 'mail', format: 'email', text: 'From: a@b.org\\nSubject: Rent\\nReceived: from x by y\\n\\nRent of $1,200 is due.\\n' });
console.log(JSON.stringify({ status: record.status, stages: record.stages.map((s) => s.stage), distilled: record.distilled, tokens: record.tokens, single: doc.value }));
`,
    );
    await writeFile(
      join(project, 'types.ts'),
      `import { createPipeline, type PipelineOptions, type DistillRecord } from 'distill';
const options: PipelineOptions = { task: 'x', budget: 10 };
const pipeline = createPipeline(options);
const record: Promise<DistillRecord> = pipeline.process({ id: 'a', text: 'b' });
void record;
`,
    );
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: project });
    const result = JSON.parse(stdout) as { status: string; stages: string[]; distilled: string; tokens: { distilled: number }; single: string };
    expect(result.status).toBe('ok');
    expect(result.stages).toEqual(['regex', 'entities', 'classify', 'sections', 'llm']);
    expect(result.tokens.distilled).toBeLessThanOrEqual(60);
    expect(result.distilled).toContain('$4,200');
    expect(result.single).toContain('Rent of $1,200 is due.');
    expect(result.single).not.toContain('Received:');
    // Types ship with the package: a TypeScript consumer compiles against them.
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'types.ts'], { cwd: project });
  }, 600_000);
});
