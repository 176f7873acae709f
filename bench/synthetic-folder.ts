/**
 * Writes the relevance model's synthetic training tasks
 * (models/relevance/train/data) as a retention folder: a `tasks.jsonl` in the
 * dev set's schema, whose files point at the training documents where they
 * are on this machine. Scoring weights are chosen on this folder, never on
 * the dev set, which is only for finding classes of failure.
 *
 *   node --import tsx bench/synthetic-folder.ts /tmp/synth [--kind manuals,mail]
 *   node --import tsx bench/retention.ts --folder /tmp/synth --no-baselines
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, 'models/relevance/train/data');

interface TrainingTask {
  file: string;
  path: string;
  corpus: string;
  task: string;
  evidence: string[];
  kind: string;
}

/** Where a training document is here: its recorded path, or the same file under this checkout's node_modules. */
function locate(task: TrainingTask): string | undefined {
  if (existsSync(task.file)) return task.file;
  const inModules = task.file.match(/\/node_modules\/(.+)$/);
  if (inModules) {
    const local = join(root, 'node_modules', inModules[1]!);
    if (existsSync(local)) return local;
  }
  return undefined;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { kind: { type: 'string' } } });
const out = resolve(positionals[0] ?? '/tmp/synth');
const kinds = values.kind?.split(',');
const lines: string[] = [];
let missing = 0;
for (const name of readdirSync(dataDir).filter((file) => file.endsWith('.jsonl')).sort()) {
  if (kinds && !kinds.includes(name.replace(/\.jsonl$/, ''))) continue;
  for (const line of readFileSync(join(dataDir, name), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const task = JSON.parse(line) as TrainingTask;
    const file = locate(task);
    if (!file) {
      missing++;
      continue;
    }
    lines.push(JSON.stringify({ file, task: task.task, gold: task.evidence, kind: task.kind }));
  }
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'tasks.jsonl'), `${lines.join('\n')}\n`);
process.stderr.write(`${lines.length} tasks written to ${join(out, 'tasks.jsonl')}${missing ? `; ${missing} skipped, their documents are not on this machine` : ''}\n`);
