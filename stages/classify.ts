import type { DistillDocument, RuleSaving, Section, SectionLabel } from '../src/document.js';
import { DistillError, invalidOption } from '../src/errors.js';
import { classifyOptionsSchema, rejectUnknownOptions } from '../src/options.js';
import { renderSections, sectionOffsets, sectionsOf, setSections } from '../src/sections.js';
import type { Stage, StageContext } from '../src/stage.js';
import type { Tokenizer } from '../src/tokens.js';
import {
  defaultModelPath,
  loadClassifier,
  type ClassifierTask,
  type SectionClassifier,
} from './classify-model.js';
import { planScope } from './entities/scope.js';
import { terms } from './sections/analyze.js';

export { clearClassifierCache, defaultModelPath, isHubModelId, loadClassifier } from './classify-model.js';
export type { ClassifierTask, ClassifyCallOptions, SectionClassifier } from './classify-model.js';

/** The shipped model's noise labels: what lowers a section's score in selection, and what `drop` may name to delete. */
export const noiseLabels = ['legal', 'navigation', 'signature', 'quoted', 'footer', 'references'] as const;

/** The shipped model's content labels, never dropped by default. */
export const contentLabels = ['narrative', 'figures', 'heading', 'code', 'metadata'] as const;

const tasks: readonly ClassifierTask[] = ['text-classification', 'zero-shot-classification'];

/** Which sections the model reads: every one, or only those the task could select. */
export type ClassifyScope = 'all' | 'task';

export const classifyScopes: readonly ClassifyScope[] = ['all', 'task'];

/** See `ClassifySectionsOptions.maxWindows`. */
export const defaultMaxWindows = 2;
const defaultScopeBudgetFactor = 1;
const defaultThreads = 1;
/** o200k gives about 4.5 characters a token in English prose; twice the usual bounds what a document that fits the budget can hold, with room for the sections stage's dedupe. */
const mostCharsPerToken = 8;

export interface ClassifySectionsOptions {
  /**
   * A local model folder (config.json, tokenizer.json, onnx/model.onnx) or a Hugging Face hub id.
   * @default the model shipped in `models/section-classifier`
   */
  model?: string;
  /**
   * Allow downloading a hub model. Loading stays offline otherwise, and always for a local folder.
   * @default false
   */
  allowRemoteModels?: boolean;
  /** @default 'text-classification' */
  task?: ClassifierTask;
  /**
   * Candidate labels for `zero-shot-classification` (required there), for example with an NLI model.
   * @example ['legal disclaimer', 'email signature', 'news story']
   */
  labels?: string[];
  /** Zero-shot hypothesis, `{}` stands for the label. @default 'This example is {}.' */
  hypothesisTemplate?: string;
  /**
   * Labels whose sections are dropped when scored at or above `threshold`.
   * By default nothing is dropped: this stage has not seen the task, and a
   * signature or a quoted reply can be what a task asks about. The labels
   * are priors that the sections stage weighs against the task (noise
   * labels lower a section's score). Name labels here, for example
   * `noiseLabels`, to delete them before the task is seen.
   * @default []
   */
  drop?: string[];
  /** The score a section needs for its label to drop it. @default 0.8 */
  threshold?: number;
  /**
   * Windows per model call. At 1 a section's label depends on its text
   * alone; in a batch, ONNX Runtime's scores move in the eighth digit with
   * the batch's shape, and which sections share a batch depends on the
   * labels remembered from earlier documents, so a run's output would then
   * depend on document order (and, on threads, on which thread read what).
   * Batching buys little for this small model: on SpamAssassin sections a
   * window per call was as fast, on SOTU (long sections) the classifier
   * read about 20% less per CPU-second (bench/classify.ts --batch).
   * @default 1
   */
  batchSize?: number;
  /**
   * A long section is read through at most this many 64-token windows,
   * spread over it (the first and the last for 2, evenly spaced beyond), and
   * their scores averaged; `Infinity` (or any number above the section's
   * windows) reads every window. On the held-out set
   * (models/section-classifier/README.md) 2 windows give 95.25% accuracy and
   * 92.4% noise recall against 95.32% and 92.3% for every window, and 1
   * window 94.96% with 1.9 points less noise precision; SOTU sections
   * (about 5 windows each) cost about half as much model time at 2.
   * @default 2
   */
  maxWindows?: number;
  /**
   * Which sections the model reads. `'all'`: every section. `'task'`: with a
   * budget in the run's context, only the sections the sections stage could
   * select (those sharing a stemmed term with `context.task`, best first, up
   * to `scopeBudgetFactor × budget` tokens; the same plan as the entities
   * stage's). The other sections are kept unlabelled and listed in
   * `classification.unread`: with a lexical match the sections stage never
   * selects them, so their labels would change nothing. Every section is
   * read with no budget, when the task matches no section (the sections
   * stage then ranks them all), and when the document might fit the budget
   * (up to 8 characters a token; the sections stage keeps such a document
   * whole, noise included).
   * @default 'task'
   */
  scope?: ClassifyScope;
  /**
   * Under `scope: 'task'` with a budget, the model reads at most this many
   * times `context.budget` tokens of candidate sections per document.
   * Measured against `scope: 'all'` at `maxWindows` 2 (distilled sentences
   * unchanged): SOTU at budget 1000, factor 2 reads 1,227 of 7,917 sections
   * and changes no output sentence (factors 4 and 8 neither); 1,000
   * SpamAssassin emails at budget 500, factors 2 and 4 keep 99.6% and 99.5%
   * of them, within the run-to-run spread of the sections stage's run-wide
   * dedupe; with dedupe per document (no spread), factors 1 and 2 both keep
   * 99.89% (11,317 of 11,330 sentences).
   * @default 1
   */
  scopeBudgetFactor?: number;
  /**
   * Threads ONNX Runtime uses inside one model call. The model is small
   * (64-token windows, hidden size 128), so a second thread costs more in
   * hand-offs than it saves, worst when other work (the entities workers)
   * holds the cores: on SOTU at `maxWindows` 2, one thread read 0.85 MB of
   * text per CPU-second and ONNX Runtime's default (one per core) 0.48,
   * and the single thread was faster by the clock too (bench/classify.ts, 2 busy cores).
   * @default 1
   */
  threads?: number;
  /** An injected classifier backend, instead of loading `model`. */
  classifier?: SectionClassifier;
}

/** What the classify stage records on `doc.data.classification`. */
export interface Classification {
  model: string;
  dropped: { section: string; label: string; score: number; tokens: number }[];
  /**
   * Sections the model did not read (under `scope: 'task'`, those the task
   * could not select): kept, with no label. Absent when every section was read.
   */
  unread?: { sections: number; chars: number; ids: string[] };
}

declare module '../src/document.js' {
  interface DataMap {
    classification?: Classification;
  }
}

export interface ClassifyStage extends Stage {
  /** Load the model now, so a missing or broken model fails once, before any document runs. */
  load(): Promise<SectionClassifier>;
}

/**
 * Label each section with a small transformer run in-process and drop the
 * sections whose label the policy names (signatures, disclaimers, navigation,
 * quoted replies...) when the model is sure enough. Every drop is recorded.
 *
 * @example
 * const stage = classifySections({ drop: ['signature', 'legal'], threshold: 0.9 });
 */
export function classifySections(options: ClassifySectionsOptions = {}): ClassifyStage {
  const settings = validate(options);
  const drop = new Set(settings.drop);
  let classifier: Promise<SectionClassifier> | undefined;

  const load = (): Promise<SectionClassifier> => {
    classifier ??= options.classifier
      ? Promise.resolve(options.classifier)
      : loadClassifier({
          model: settings.model,
          allowRemoteModels: settings.allowRemoteModels,
          task: settings.task,
          batchSize: settings.batchSize,
          threads: settings.threads,
          ...(settings.labels ? { labels: settings.labels } : {}),
          ...(settings.hypothesisTemplate === undefined ? {} : { hypothesisTemplate: settings.hypothesisTemplate }),
        });
    return classifier;
  };

  const memo = new LabelMemo(memoEntries, memoMaxChars);

  /** Per section, whether the model reads it (see `ClassifySectionsOptions.scope`). */
  const readPlan = (sections: readonly Section[], context: StageContext): boolean[] => {
    if (settings.scope === 'all' || context.budget === undefined) return sections.map(() => true);
    // The sections stage keeps a document that fits the budget whole, noise and all: read every section of one that might.
    const chars = sections.reduce((sum, section) => sum + section.text.length, 0);
    if (chars <= context.budget * mostCharsPerToken) return sections.map(() => true);
    const { scan } = planScope({ sections, task: context.task, budget: context.budget, budgetFactor: settings.scopeBudgetFactor });
    // The plan takes the best match first, so if no section it picked shares a term with the task, none does (it picked
    // only sections with a cue for an entity type the task asks for, or nothing): the sections stage then ranks every
    // section by centrality, so read them all.
    const query = new Set(terms(context.task));
    const matched = sections.some((section, index) => scan[index] === true && sharesTerm(section, query));
    return matched ? scan : sections.map(() => true);
  };

  /** Labels for `texts`: each distinct text read once, and texts labelled before (boilerplate repeated across documents) not read again. */
  const classifyMemoised = async (model: SectionClassifier, texts: readonly string[]): Promise<SectionLabel[]> => {
    const answers = new Map<string, SectionLabel | undefined>();
    for (const text of texts) if (!answers.has(text)) answers.set(text, memo.get(text));
    const fresh = [...answers].filter(([, label]) => label === undefined).map(([text]) => text);
    if (fresh.length > 0) {
      const results = await model.classify(fresh, { maxWindows: settings.maxWindows, batchSize: settings.batchSize });
      fresh.forEach((text, index) => {
        const label = results[index] ?? unknownLabel;
        answers.set(text, label);
        memo.set(text, label);
      });
    }
    return texts.map((text) => answers.get(text) ?? unknownLabel);
  };

  return {
    name: 'classify',
    load,
    async run(doc: DistillDocument, context: StageContext) {
      const sections = sectionsOf(doc);
      let model: SectionClassifier;
      try {
        model = await load();
      } catch (error) {
        const known = error instanceof DistillError ? error : undefined;
        doc.fail(error instanceof Error ? error.message : String(error), 'classify:model', {
          ...(known?.code ? { code: known.code } : {}),
          ...(known?.fix ? { fix: known.fix } : {}),
        });
        return;
      }
      if (sections.length === 0) {
        doc.data.classification = { model: model.model, dropped: [] };
        return;
      }
      const read = readPlan(sections, context);
      const results = await classifyMemoised(
        model,
        sections.filter((_, index) => read[index]).map((section) => section.text),
      );
      const labels: Record<string, SectionLabel> = {};
      const kept: Section[] = [];
      const dropped: Classification['dropped'] = [];
      const unread: NonNullable<Classification['unread']> = { sections: 0, chars: 0, ids: [] };
      let next = 0;
      sections.forEach((section, index) => {
        if (!read[index]) {
          unread.sections++;
          unread.chars += section.text.length;
          unread.ids.push(section.id);
          kept.push(section);
          return;
        }
        const result = results[next++] ?? unknownLabel;
        labels[section.id] = { label: result.label, score: result.score };
        if (drop.has(result.label) && result.score >= settings.threshold) {
          dropped.push({ section: section.id, label: result.label, score: result.score, tokens: context.tokenizer.count(section.text) });
        } else {
          kept.push(section);
        }
      });
      doc.data.labels = labels;
      const unreadPart = unread.sections > 0 ? { unread } : {};
      if (dropped.length > 0 && kept.length === 0) {
        // An empty document helps no task; a document that is all noise to the model is more likely a miss.
        doc.message(
          `every section was labelled as noise (${summarise(dropped)}); kept them all`,
          'classify:all-noise',
          { fix: 'raise `threshold` or narrow `drop` in stages.classify if such documents should go' },
        );
        doc.data.classification = { model: model.model, dropped: [], ...unreadPart };
        return;
      }
      doc.data.classification = { model: model.model, dropped, ...unreadPart };
      if (dropped.length === 0) return;
      doc.data.ruleSavings = [...(doc.data.ruleSavings ?? []), ...creditLabels(doc.value, sections, dropped, context.tokenizer)];
      if (doc.data.spans) {
        // Span capture: each dropped section is credited to its label (see src/spans/trace.ts).
        const offsets = sectionOffsets(doc.value, sections);
        const reasons = new Map(dropped.map((entry) => [entry.section, `classify:${entry.label} (score ${entry.score.toFixed(2)})`]));
        doc.data.spanHints = sections.flatMap((section, index) => {
          const reason = reasons.get(section.id);
          const start = offsets[index]!;
          return reason !== undefined && start >= 0 ? [{ start, end: start + section.text.length, reason }] : [];
        });
      }
      setSections(doc, kept);
    },
  };
}

/**
 * Each dropped label's saving, in exact o200k tokens of the rendered text,
 * so the savings sum to the stage's own token change (as the regex stage's
 * rules do): a section's own count leaves out the separator that goes with
 * it. Labels are taken away one after another, in the order they were first
 * dropped, and each is credited with what its step removed.
 */
function creditLabels(text: string, sections: readonly Section[], dropped: Classification['dropped'], tokenizer: Tokenizer): RuleSaving[] {
  const savings: RuleSaving[] = [];
  const gone = new Set<string>();
  let remaining = sections;
  let tokens = tokenizer.count(text);
  for (const label of new Set(dropped.map((entry) => entry.label))) {
    const ids = new Set(dropped.filter((entry) => entry.label === label).map((entry) => entry.section));
    for (const id of ids) gone.add(id);
    remaining = remaining.filter((section) => !gone.has(section.id));
    const after = tokenizer.count(renderSections(remaining));
    savings.push({ rule: `classify:${label}`, hits: ids.size, tokensRemoved: tokens - after });
    tokens = after;
  }
  return savings;
}

/** Whether the section's text or heading path holds one of the task's terms (the sections stage's stemmed terms). */
function sharesTerm(section: Section, query: ReadonlySet<string>): boolean {
  return [...terms(section.text), ...terms(section.headings.join(' '))].some((term) => query.has(term));
}

/** See `ClassifySectionsOptions.batchSize`: one window per model call, so that labels never depend on document order. */
export const defaultBatchSize = 1;

const unknownLabel: SectionLabel = { label: 'unknown', score: 0 };

/** Labels kept per stage: enough for a run's recurring boilerplate, bounded so a long run's memory stays flat. */
const memoEntries = 4096;
/** Boilerplate is short; a long section is rarely repeated word for word, and would cost the memo most. */
const memoMaxChars = 2000;

/** Labels by section text, the least recently used dropped first. */
class LabelMemo {
  readonly #entries = new Map<string, SectionLabel>();
  readonly #limit: number;
  readonly #maxChars: number;

  constructor(limit: number, maxChars: number) {
    this.#limit = limit;
    this.#maxChars = maxChars;
  }

  get(text: string): SectionLabel | undefined {
    const label = this.#entries.get(text);
    if (label !== undefined) {
      this.#entries.delete(text);
      this.#entries.set(text, label);
    }
    return label;
  }

  set(text: string, label: SectionLabel): void {
    if (text.length > this.#maxChars) return;
    this.#entries.delete(text);
    this.#entries.set(text, label);
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

function summarise(dropped: Classification['dropped']): string {
  const counts = new Map<string, number>();
  for (const entry of dropped) counts.set(entry.label, (counts.get(entry.label) ?? 0) + 1);
  return [...counts].map(([label, count]) => `${count} ${label}`).join(', ');
}

interface Settings {
  model: string;
  allowRemoteModels: boolean;
  task: ClassifierTask;
  labels: string[] | undefined;
  hypothesisTemplate: string | undefined;
  drop: string[];
  threshold: number;
  batchSize: number;
  maxWindows: number;
  scope: ClassifyScope;
  scopeBudgetFactor: number;
  threads: number;
}

function validate(options: ClassifySectionsOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  rejectUnknownOptions(options, classifyOptionsSchema);
  const { model, allowRemoteModels = false, task = 'text-classification', labels, hypothesisTemplate } = options;
  const { drop = [], threshold = 0.8, batchSize = defaultBatchSize, classifier } = options;
  const { maxWindows = defaultMaxWindows, scope = 'task', scopeBudgetFactor = defaultScopeBudgetFactor, threads = defaultThreads } = options;
  if (model !== undefined && (typeof model !== 'string' || model.trim() === '')) {
    throw invalidOption('model', 'a model folder path or a hub id', model);
  }
  if (typeof allowRemoteModels !== 'boolean') throw invalidOption('allowRemoteModels', 'a boolean', allowRemoteModels);
  if (!tasks.includes(task)) throw invalidOption('task', `one of ${tasks.map((name) => `\`${name}\``).join(', ')}`, task);
  if (labels !== undefined && !isStringList(labels)) throw invalidOption('labels', 'an array of non-empty strings', labels);
  if (task === 'zero-shot-classification' && (labels === undefined || labels.length < 2) && !classifier) {
    throw invalidOption('labels', 'at least two candidate labels for `zero-shot-classification`', labels);
  }
  if (hypothesisTemplate !== undefined && (typeof hypothesisTemplate !== 'string' || !hypothesisTemplate.includes('{}'))) {
    throw invalidOption('hypothesisTemplate', 'a string containing `{}`', hypothesisTemplate);
  }
  if (!isStringList(drop)) throw invalidOption('drop', 'an array of non-empty strings', drop);
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw invalidOption('threshold', 'a number from 0 to 1', threshold);
  }
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw invalidOption('batchSize', 'a positive integer', batchSize);
  }
  if (typeof maxWindows !== 'number' || !(Number.isInteger(maxWindows) || maxWindows === Number.POSITIVE_INFINITY) || maxWindows < 1) {
    throw invalidOption('maxWindows', 'a positive integer or `Infinity`', maxWindows);
  }
  if (!classifyScopes.includes(scope)) throw invalidOption('scope', `one of ${classifyScopes.map((name) => `'${name}'`).join(', ')}`, scope);
  if (typeof scopeBudgetFactor !== 'number' || !Number.isFinite(scopeBudgetFactor) || scopeBudgetFactor <= 0) {
    throw invalidOption('scopeBudgetFactor', 'a positive number', scopeBudgetFactor);
  }
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1) {
    throw invalidOption('threads', 'a positive integer', threads);
  }
  if (classifier !== undefined && (typeof classifier !== 'object' || classifier === null || typeof classifier.classify !== 'function')) {
    throw invalidOption('classifier', 'an object with a `classify(texts)` method', classifier);
  }
  return {
    model: model ?? defaultModelPath(),
    allowRemoteModels,
    task,
    labels,
    hypothesisTemplate,
    drop,
    threshold,
    batchSize,
    maxWindows,
    scope,
    scopeBudgetFactor,
    threads,
  };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.trim() !== '');
}
