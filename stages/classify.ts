import type { DistillDocument, RuleSaving, Section, SectionLabel } from '../src/document.js';
import { DistillError, invalidOption } from '../src/errors.js';
import { sectionsOf, setSections } from '../src/sections.js';
import type { Stage, StageContext } from '../src/stage.js';
import {
  defaultModelPath,
  loadClassifier,
  type ClassifierTask,
  type SectionClassifier,
} from './classify-model.js';

export { clearClassifierCache, defaultModelPath, isHubModelId, loadClassifier } from './classify-model.js';
export type { ClassifierTask, SectionClassifier } from './classify-model.js';

/** The shipped model's noise labels: what is dropped unless the config says otherwise. */
export const noiseLabels = ['legal', 'navigation', 'signature', 'quoted', 'footer', 'references'] as const;

/** The shipped model's content labels, never dropped by default. */
export const contentLabels = ['narrative', 'figures', 'heading', 'code', 'metadata'] as const;

const tasks: readonly ClassifierTask[] = ['text-classification', 'zero-shot-classification'];

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
   * @default ['legal', 'navigation', 'signature', 'quoted', 'footer', 'references']
   */
  drop?: string[];
  /** The score a section needs for its label to drop it. @default 0.8 */
  threshold?: number;
  /** Windows per model call. @default 32 */
  batchSize?: number;
  /** An injected classifier backend, instead of loading `model`. */
  classifier?: SectionClassifier;
}

/** What the classify stage records on `doc.data.classification`. */
export interface Classification {
  model: string;
  dropped: { section: string; label: string; score: number; tokens: number }[];
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
          ...(settings.labels ? { labels: settings.labels } : {}),
          ...(settings.hypothesisTemplate === undefined ? {} : { hypothesisTemplate: settings.hypothesisTemplate }),
        });
    return classifier;
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
      const results = await model.classify(sections.map((section) => section.text));
      const labels: Record<string, SectionLabel> = {};
      const kept: Section[] = [];
      const dropped: Classification['dropped'] = [];
      sections.forEach((section, index) => {
        const result = results[index] ?? { label: 'unknown', score: 0 };
        labels[section.id] = { label: result.label, score: result.score };
        if (drop.has(result.label) && result.score >= settings.threshold) {
          dropped.push({ section: section.id, label: result.label, score: result.score, tokens: context.tokenizer.count(section.text) });
        } else {
          kept.push(section);
        }
      });
      doc.data.labels = labels;
      if (dropped.length > 0 && kept.length === 0) {
        // An empty document helps no task; a document that is all noise to the model is more likely a miss.
        doc.message(
          `every section was labelled as noise (${summarise(dropped)}); kept them all`,
          'classify:all-noise',
          { fix: 'raise `threshold` or narrow `drop` in stages.classify if such documents should go' },
        );
        doc.data.classification = { model: model.model, dropped: [] };
        return;
      }
      doc.data.classification = { model: model.model, dropped };
      if (dropped.length === 0) return;
      const savings = new Map<string, RuleSaving>();
      for (const entry of dropped) {
        const rule = `classify:${entry.label}`;
        const saving = savings.get(rule) ?? { rule, hits: 0, tokensRemoved: 0 };
        saving.hits++;
        saving.tokensRemoved += entry.tokens;
        savings.set(rule, saving);
      }
      doc.data.ruleSavings = [...(doc.data.ruleSavings ?? []), ...savings.values()];
      setSections(doc, kept);
    },
  };
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
}

function validate(options: ClassifySectionsOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { model, allowRemoteModels = false, task = 'text-classification', labels, hypothesisTemplate } = options;
  const { drop = [...noiseLabels], threshold = 0.8, batchSize = 32, classifier } = options;
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
  };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.trim() !== '');
}
