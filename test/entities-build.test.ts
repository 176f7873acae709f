import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The CLI runs the compiled stage with plain `node`: its worker must be the
 * built `worker.js`, loadable without tsx. Compile the stage on its own into
 * a scratch folder inside the repository (so `node_modules` resolves) and
 * run a document through a worker in a child process with no loaders.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
let outDir: string | undefined;

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('entities stage, built', () => {
  it('runs its worker threads from the compiled JavaScript without tsx', { timeout: 120_000 }, async () => {
    outDir = await mkdtemp(join(root, 'node_modules', '.entities-build-'));
    await run(process.execPath, [
      // The worker is reached through a URL, not an import, so it is named here as the build's `include` does.
      tsc, join(root, 'stages/entities.ts'), join(root, 'stages/entities/worker.ts'), '--outDir', outDir, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node', '--declaration', 'false',
    ], { cwd: root });
    const entry = pathToFileURL(join(outDir, 'stages/entities.js')).href;
    const documentModule = pathToFileURL(join(outDir, 'src/document.js')).href;
    const script = `
      const { extractEntities } = await import(${JSON.stringify(entry)});
      const { DistillDocument } = await import(${JSON.stringify(documentModule)});
      const stage = extractEntities({ workers: 1, scope: 'all' });
      const doc = new DistillDocument({ id: 'd', text: 'We spent $13 millions in Paris on 4 July 1976.' });
      await stage.run(doc, {});
      await stage.close();
      console.log(JSON.stringify({ status: doc.status, messages: doc.messages, entities: doc.data.entities }));
    `;
    const scriptFile = join(outDir, 'run.mjs');
    await writeFile(scriptFile, script);
    const { stdout } = await run(process.execPath, [scriptFile], { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } });
    const result = JSON.parse(stdout) as { status: string; entities: { type: string; text: string; normalized?: string }[] };
    expect(result.status, stdout).toBe('ok');
    expect(result.entities.map((entity) => [entity.type, entity.text, entity.normalized])).toEqual([
      ['money', '$13 millions', '13000000 USD'],
      ['place', 'Paris', undefined],
      ['date', '4 July 1976', '1976-07-04'],
    ]);
  });
});
