/**
 * Retention: how much of what a task needs survives distillation. Runs any
 * folder with a `tasks.jsonl` (`{"file", "task", "gold": [...], "kind"}` per
 * line, the dev set's schema) through the real loaders and local stages, at
 * several budgets, and reports per budget the share of gold snippets kept
 * and of tokens removed, per document format and per task kind, beside the
 * baselines at the same budgets. Every lost snippet is attributed to the
 * stage that removed it, and for the regex and classify stages to the rule
 * or label.
 *
 *   node --import tsx bench/retention.ts [--folder ../shared/data/devset] [--quick] [--json out.json]
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DistillDocument } from '../src/document.js';
import { loadFile } from '../src/loaders/index.js';
import { foldForMatch } from '../src/measure.js';
import { runStages } from '../src/runner.js';
import { sectionize } from '../src/sections.js';
import type { Stage, StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { createStage, localStageNames, type StageOptionsMap } from '../stages/index.js';
import type { LocalStageName } from '../stages/names.js';
import { bm25Sentences, headTruncate, langchainBm25 } from './baselines.js';
import { sample } from './corpora.js';

export interface RetentionTask {
  file: string;
  task: string;
  gold: string[];
  kind: string;
}

export interface Loss {
  file: string;
  snippet: string;
  /** `regex:<rule>`, `classify:<label>`, `sections:not selected`, ... */
  cause: string;
}

export interface BudgetRow {
  budget: number | null;
  method: string;
  kept: number;
  gold: number;
  tokensOriginal: number;
  tokensOut: number;
  byFormat: Record<string, { kept: number; gold: number }>;
  byKind: Record<string, { kept: number; gold: number }>;
}

export interface RetentionResult {
  folder: string;
  tasks: number;
  gold: number;
  rows: BudgetRow[];
  /** Per budget (key `none` for no budget), every lost snippet of distill's own output. */
  losses: Record<string, Loss[]>;
  /** Per budget, per task: snippets kept of snippets in all. */
  perTask: Record<string, { file: string; kept: number; gold: number }[]>;
  seconds: number;
}

export interface RetentionOptions {
  folder?: string;
  budgets?: readonly (number | null)[];
  /** Take a fixed-seed sample of this many tasks. */
  limit?: number;
  stages?: readonly LocalStageName[];
  /** Stage options, as in the config file. */
  options?: Partial<{ [Name in LocalStageName]: StageOptionsMap[Name] }>;
  baselines?: boolean;
  /** Other settings of the sections stage to score beside the default, by row name (the relevance model on and off). */
  variants?: Record<string, NonNullable<StageOptionsMap['sections']>>;
  log?: (line: string) => void;
}

export const defaultDevset = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data/devset');

export async function readTasks(folder: string): Promise<RetentionTask[]> {
  const text = await readFile(join(folder, 'tasks.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RetentionTask);
}

/** The sections stage's scoring with every cue but sentence BM25 turned off. */
const plainWeights = { context: 0, neighbour: 0, heading: 0, entity: 0, name: 0, coverage: 0, phrase: 0, headingTerms: 0, lead: 0, meaning: 0, region: 0 };

const budgetKey = (budget: number | null) => (budget === null ? 'none' : String(budget));

export async function runRetention(options: RetentionOptions = {}): Promise<RetentionResult> {
  const started = performance.now();
  const folder = options.folder ?? defaultDevset;
  const all = await readTasks(folder);
  const tasks = options.limit ? sample(all, options.limit, 7) : all;
  const budgets = options.budgets ?? [500, 1000, 2000, null];
  const names = options.stages ?? localStageNames;
  const log = options.log ?? (() => {});
  // Heavy stages (the classifier, the entity tagger) load once; the sections stage is made per document, so that
  // run-wide dedupe never lets one task's document remove another's text.
  const shared = new Map<LocalStageName, Stage>();
  for (const name of names) if (name !== 'sections') shared.set(name, createStage(name, options.options?.[name] as never));
  for (const stage of shared.values()) await stage.load?.();
  const stagesFor = () => names.map((name) => shared.get(name) ?? createStage('sections', options.options?.sections));

  const loaded = new Map<string, DistillDocument>();
  for (const task of tasks) {
    const doc = await loadFile(resolve(folder, task.file), task.file);
    if (doc.status !== 'ok') log(`${task.file}: ${doc.status} (${doc.messages.at(-1)?.reason ?? ''})`);
    loaded.set(task.file, doc);
  }

  const rows: BudgetRow[] = [];
  const losses: Record<string, Loss[]> = {};
  const perTask: Record<string, { file: string; kept: number; gold: number }[]> = {};
  const regexWithout = new Map<string, Stage>();
  for (const budget of budgets) {
    const key = budgetKey(budget);
    losses[key] = [];
    perTask[key] = [];
    const methods = new Map<string, BudgetRow>();
    const row = (method: string) => {
      let found = methods.get(method);
      if (!found) {
        found = { budget, method, kept: 0, gold: 0, tokensOriginal: 0, tokensOut: 0, byFormat: {}, byKind: {} };
        methods.set(method, found);
      }
      return found;
    };
    for (const task of tasks) {
      const source = loaded.get(task.file)!;
      const context: StageContext = { task: task.task, model: 'gpt-4o', tokenizer: o200k, ...(budget === null ? {} : { budget }) };
      const doc = DistillDocument.fromState(structuredClone(source.toState()));
      const snapshots: { stage: string; value: string; labels: DistillDocument['data']['labels'] }[] = [{ stage: 'load', value: doc.value, labels: undefined }];
      await runStages(doc, {
        stages: stagesFor(),
        context,
        onStage: (event) => snapshots.push({ stage: event.stage, value: event.doc.value, labels: event.doc.data.labels ? { ...event.doc.data.labels } : undefined }),
      });
      const out = doc.status === 'ok' ? doc.value : '';
      const originalTokens = o200k.count(source.original);
      const folded = snapshots.map((snapshot) => foldForMatch(snapshot.value));
      const outputs = new Map<string, string>([['distill', out]]);
      for (const [name, sections] of Object.entries(options.variants ?? {})) {
        const variant = DistillDocument.fromState(structuredClone(source.toState()));
        await runStages(variant, { stages: names.map((stage) => shared.get(stage) ?? createStage('sections', { ...options.options?.sections, ...sections })), context });
        outputs.set(name, variant.status === 'ok' ? variant.value : '');
      }
      if (options.baselines !== false && budget !== null) {
        // distill's own BM25 over its own units, without the cues on top (context, headings, entities, meaning, region).
        const plain = DistillDocument.fromState(structuredClone(source.toState()));
        await runStages(plain, { stages: [shared.get('regex') ?? createStage('regex'), createStage('sections', { dedupe: 'document', weights: plainWeights })], context });
        outputs.set('distill bm25 only', plain.status === 'ok' ? plain.value : '');
        outputs.set('head', headTruncate(source.original, budget));
        outputs.set('bm25 sentences', bm25Sentences(source.original, task.task, budget));
        outputs.set('langchain bm25', await langchainBm25(source.original, task.task, budget));
        outputs.set('langchain bm25, case-folded', await langchainBm25(source.original, task.task, budget, { caseFold: true }));
      }
      for (const [method, text] of outputs) {
        const target = row(method);
        const foldedText = foldForMatch(text);
        const kept = task.gold.filter((snippet) => foldedText.includes(foldForMatch(snippet))).length;
        target.kept += kept;
        target.gold += task.gold.length;
        target.tokensOriginal += originalTokens;
        target.tokensOut += o200k.count(text);
        for (const [group, name] of [
          [target.byFormat, source.format],
          [target.byKind, task.kind],
        ] as const) {
          const cell = (group[name] ??= { kept: 0, gold: 0 });
          cell.kept += kept;
          cell.gold += task.gold.length;
        }
        if (method === 'distill') perTask[key]!.push({ file: task.file, kept, gold: task.gold.length });
      }
      for (const snippet of task.gold) {
        const wanted = foldForMatch(snippet);
        if (foldForMatch(out).includes(wanted)) continue;
        const at = folded.findIndex((text) => !text.includes(wanted));
        const stage = at <= 0 ? 'load' : snapshots[at]!.stage;
        losses[key]!.push({ file: task.file, snippet, cause: at === 0 ? 'load: not in the text as loaded' : await attribute(stage, snapshots[at - 1]!, snippet, doc, context, regexWithout) });
      }
    }
    rows.push(...methods.values());
    const ours = methods.get('distill')!;
    log(`budget ${key}: ${percent(ours.kept, ours.gold)} kept, ${percent(ours.tokensOriginal - ours.tokensOut, ours.tokensOriginal)} removed`);
  }
  for (const stage of shared.values()) await stage.close?.();
  return { folder, tasks: tasks.length, gold: tasks.reduce((sum, task) => sum + task.gold.length, 0), rows, losses, perTask, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

/** Which rule or label of `stage` removed `snippet` from `before` (the text the stage received). */
async function attribute(
  stage: string,
  before: { value: string; labels: DistillDocument['data']['labels'] },
  snippet: string,
  doc: DistillDocument,
  context: StageContext,
  regexWithout: Map<string, Stage>,
): Promise<string> {
  const wanted = foldForMatch(snippet);
  if (stage === 'regex') {
    const rules = doc.stages.find((metric) => metric.stage === 'regex')?.rules ?? [];
    // The rule whose absence keeps the snippet is the one that removed it.
    for (const { rule } of rules) {
      let without = regexWithout.get(rule);
      if (!without) {
        without = createStage('regex', { disable: [rule] });
        regexWithout.set(rule, without);
      }
      const probe = new DistillDocument({ id: doc.id, source: doc.source, format: doc.format, text: doc.original });
      await runStages(probe, { stages: [without], context });
      if (foldForMatch(probe.value).includes(wanted)) return rule;
    }
    return 'regex: several rules';
  }
  if (stage === 'classify') {
    const labels = doc.data.labels ?? {};
    const section = sectionize(before.value).find((candidate) => foldForMatch(candidate.text).includes(wanted));
    const label = section ? labels[section.id] : undefined;
    return label ? `classify:${label.label}` : 'classify: unknown section';
  }
  if (stage === 'sections') {
    const duplicates = (doc.data.selection?.duplicates ?? []).length;
    return duplicates > 0 && doc.data.selection?.cut === 'fits' ? 'sections:dedupe' : `sections:${doc.data.selection?.cut === 'budget' ? 'not selected' : doc.data.selection?.cut ?? 'cut'}`;
  }
  return stage;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`;
}

export function formatRetention(result: RetentionResult): string {
  const lines: string[] = [];
  const methods = [...new Set(result.rows.map((row) => row.method))];
  lines.push(`${result.tasks} tasks, ${result.gold} gold snippets, ${result.seconds} s`);
  lines.push('');
  lines.push(`| budget | ${methods.map((method) => `${method}: kept / removed`).join(' | ')} |`);
  lines.push(`|---|${methods.map(() => '---').join('|')}|`);
  for (const budget of [...new Set(result.rows.map((row) => row.budget))]) {
    const cells = methods.map((method) => {
      const row = result.rows.find((candidate) => candidate.budget === budget && candidate.method === method);
      return row ? `${percent(row.kept, row.gold)} / ${percent(row.tokensOriginal - row.tokensOut, row.tokensOriginal)}` : '–';
    });
    lines.push(`| ${budget ?? 'none'} | ${cells.join(' | ')} |`);
  }
  const ours = result.rows.filter((row) => row.method === 'distill');
  for (const group of ['byFormat', 'byKind'] as const) {
    lines.push('');
    const keys = [...new Set(ours.flatMap((row) => Object.keys(row[group])))].sort();
    lines.push(`| distill ${group === 'byFormat' ? 'by format' : 'by task kind'} | ${keys.map((key) => `${key} (${ours[0]![group][key]!.gold})`).join(' | ')} |`);
    lines.push(`|---|${keys.map(() => '---').join('|')}|`);
    for (const row of ours) lines.push(`| ${row.budget ?? 'none'} | ${keys.map((key) => percent(row[group][key]?.kept ?? 0, row[group][key]?.gold ?? 0)).join(' | ')} |`);
  }
  for (const [budget, list] of Object.entries(result.losses)) {
    lines.push('');
    const causes = new Map<string, number>();
    for (const loss of list) causes.set(loss.cause, (causes.get(loss.cause) ?? 0) + 1);
    lines.push(`losses at budget ${budget}: ${list.length} snippets: ${[...causes].sort((a, b) => b[1] - a[1]).map(([cause, count]) => `${cause} ${count}`).join(', ') || 'none'}`);
  }
  const worst = (result.perTask['1000'] ?? []).filter((task) => task.kept < 3);
  if (worst.length > 0) {
    lines.push('');
    lines.push(`tasks keeping fewer than 3 snippets at 1000: ${worst.map((task) => `${task.file} ${task.kept}/${task.gold}`).join(', ')}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      folder: { type: 'string' },
      quick: { type: 'boolean', default: false },
      limit: { type: 'string' },
      options: { type: 'string' },
      budgets: { type: 'string' },
      json: { type: 'string' },
      stages: { type: 'string' },
      losses: { type: 'boolean', default: false },
      'no-baselines': { type: 'boolean', default: false },
      'relevance-model': { type: 'string' },
    },
  });
  const result = await runRetention({
    ...(values.folder ? { folder: values.folder } : {}),
    ...(values.quick ? { limit: 12 } : {}),
    ...(values.limit ? { limit: Number(values.limit) } : {}),
    ...(values.budgets ? { budgets: values.budgets.split(',').map((budget) => (budget === 'none' ? null : Number(budget))) } : {}),
    ...(values.stages !== undefined ? { stages: values.stages.split(',').filter(Boolean) as LocalStageName[] } : {}),
    baselines: !values['no-baselines'],
    ...(values['relevance-model'] ? { variants: { 'distill + relevance model': { relevanceModel: values['relevance-model'] } } } : {}),
    ...(values.options ? { options: JSON.parse(values.options) as NonNullable<RetentionOptions['options']> } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatRetention(result)}\n`);
  if (values.losses) for (const loss of result.losses['1000'] ?? []) process.stdout.write(`  ${loss.file}: ${loss.cause}: ${loss.snippet}\n`);
  if (values.json) await (await import('node:fs/promises')).writeFile(values.json, JSON.stringify(result, null, 2));
}
