import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SectionLabel } from '../src/document.js';
import { ModelLoadError } from '../src/errors.js';

/**
 * The classifier backend: a model that gives one label and score per text.
 * The default loads a transformers.js model in-process; tests and callers
 * may inject their own.
 */
export interface SectionClassifier {
  /** The model id or path, recorded on every document it labels. */
  readonly model: string;
  /** Every label the model can give. */
  readonly labels: readonly string[];
  /** One label per text, in order. Long texts are read in windows and their scores averaged. */
  classify(texts: readonly string[]): Promise<SectionLabel[]>;
}

export type ClassifierTask = 'text-classification' | 'zero-shot-classification';

export interface LoadClassifierOptions {
  /** A local folder (absolute, or relative to the working directory) or a Hugging Face hub id. */
  model: string;
  allowRemoteModels: boolean;
  task: ClassifierTask;
  /** Candidate labels, for zero-shot classification. */
  labels?: readonly string[];
  hypothesisTemplate?: string;
  batchSize: number;
}

const shippedModelName = 'section-classifier';

/**
 * The package root, found by walking up from this module: the same code runs
 * as `stages/classify-model.ts` (source, tests) and as
 * `dist/stages/classify-model.js` (built, installed from npm), at different depths.
 */
export function packageRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(directory, 'models', shippedModelName, 'config.json'))) return directory;
    if (existsSync(path.join(directory, 'package.json')) && path.basename(directory) !== 'dist') return directory;
    const parent = path.dirname(directory);
    if (parent === directory) return path.dirname(fileURLToPath(import.meta.url));
    directory = parent;
  }
}

/** The model that ships in the repository and the npm package. */
export function defaultModelPath(): string {
  return path.join(packageRoot(), 'models', shippedModelName);
}

/** A hub id looks like `name` or `owner/name` and is not a folder on disk. */
export function isHubModelId(model: string): boolean {
  if (path.isAbsolute(model) || model.startsWith('.') || existsSync(model)) return false;
  return /^[\w.-]+(\/[\w.-]+)?$/.test(model) && !model.includes('..') && !model.includes('--');
}

const loaded = new Map<string, Promise<SectionClassifier>>();

/**
 * Load a classifier once per process: every stage built with the same model,
 * task and labels shares it. A failed load is cached too, so a run fails once
 * with the same clear error instead of retrying per document.
 */
export function loadClassifier(options: LoadClassifierOptions): Promise<SectionClassifier> {
  const key = JSON.stringify([
    isHubModelId(options.model) ? options.model : path.resolve(options.model),
    options.task,
    options.labels ?? null,
    options.hypothesisTemplate ?? null,
    options.allowRemoteModels,
  ]);
  let classifier = loaded.get(key);
  if (!classifier) {
    classifier = queueLoad(() => load(options));
    // Callers that never await (a stage built but never run) must not see an unhandled rejection.
    classifier.catch(() => undefined);
    loaded.set(key, classifier);
  }
  return classifier;
}

/** Forget loaded models (tests, long-lived processes switching models). */
export function clearClassifierCache(): void {
  loaded.clear();
}

// transformers.js reads `env` when a load starts; loads run one at a time so two never see each other's settings.
let loadQueue: Promise<unknown> = Promise.resolve();
function queueLoad<T>(task: () => Promise<T>): Promise<T> {
  const next = loadQueue.then(task, task);
  loadQueue = next.catch(() => undefined);
  return next;
}

type Transformers = typeof import('@huggingface/transformers');

async function load(options: LoadClassifierOptions): Promise<SectionClassifier> {
  const hub = isHubModelId(options.model);
  const transformers: Transformers = await import('@huggingface/transformers');
  const { env } = transformers;
  let id = options.model;
  if (hub) {
    if (!options.allowRemoteModels) {
      throw new ModelLoadError(`classifier model \`${options.model}\` is a hub id and remote models are not allowed`, {
        fix: `pass --allow-remote-models (or set \`allowRemoteModels: true\` under "classify" in the config file) to download \`${options.model}\`, or give the path of a local model folder as \`model\``,
      });
    }
  } else {
    const folder = path.resolve(options.model);
    const missing = ['config.json', 'tokenizer.json', path.join('onnx', 'model.onnx')].filter(
      (file) => !existsSync(path.join(folder, file)),
    );
    if (!statSafe(folder)?.isDirectory() || missing.length > 0) {
      throw new ModelLoadError(
        `classifier model folder \`${folder}\` is missing ${missing.length > 0 ? missing.map((file) => `\`${file}\``).join(', ') : 'or not a folder'}`,
        { fix: `point \`model\` (stages.classify.model) at a folder holding config.json, tokenizer.json and onnx/model.onnx; the shipped one is ${defaultModelPath()}` },
      );
    }
    env.localModelPath = path.dirname(folder) + path.sep;
    id = path.basename(folder);
  }
  env.allowLocalModels = true;
  // Remote loading is on only for the length of this load, and only for a hub id the user allowed.
  env.allowRemoteModels = hub && options.allowRemoteModels;
  try {
    return options.task === 'zero-shot-classification'
      ? await loadZeroShot(transformers, id, options)
      : await loadTextClassification(transformers, id, options);
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(`could not load classifier model \`${options.model}\`: ${detail}`, {
      cause: error,
      fix: hub
        ? `check the hub id \`${options.model}\` and the network, or download the model and give its folder as \`model\``
        : `check the model files under ${path.resolve(options.model)} (config.json, tokenizer.json, onnx/model.onnx)`,
    });
  } finally {
    env.allowRemoteModels = false;
  }
}

function statSafe(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** The usable window, in tokens: the model's positions, capped by what the tokenizer says, at most 512. */
function windowLength(config: Record<string, unknown>, tokenizerMax: unknown): number {
  const positions = typeof config['max_position_embeddings'] === 'number' ? config['max_position_embeddings'] : 512;
  const declared = typeof tokenizerMax === 'number' && tokenizerMax > 0 && tokenizerMax < 100_000 ? tokenizerMax : positions;
  // RoBERTa-style models reserve two positions for the padding offset.
  const usable = config['model_type'] === 'roberta' || config['model_type'] === 'xlm-roberta' ? positions - 2 : positions;
  return Math.min(512, usable, declared);
}

interface Window {
  section: number;
  ids: number[];
}

async function loadTextClassification(
  transformers: Transformers,
  id: string,
  options: LoadClassifierOptions,
): Promise<SectionClassifier> {
  const { AutoModelForSequenceClassification, AutoTokenizer, Tensor } = transformers;
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model = await AutoModelForSequenceClassification.from_pretrained(id, { dtype: 'fp32' });
  const config = model.config as unknown as Record<string, unknown>;
  const id2label = (config['id2label'] ?? {}) as Record<string, string>;
  const labelCount = Object.keys(id2label).length;
  const labels = Array.from({ length: labelCount }, (_, index) => id2label[String(index)] ?? `LABEL_${index}`);
  const maxLength = windowLength(config, tokenizer.model_max_length);
  // The special tokens this tokenizer wraps a sequence in ([CLS] … [SEP], <s> … </s>), read off an empty encoding.
  const wrapped = tokenizer.encode('');
  const prefix = wrapped.length >= 2 ? wrapped.slice(0, 1) : [];
  const suffix = wrapped.length >= 1 ? wrapped.slice(-1) : [];
  const span = Math.max(1, maxLength - prefix.length - suffix.length);
  const padId = tokenizer.pad_token_id ?? 0;

  return {
    model: options.model,
    labels,
    async classify(texts) {
      const windows: Window[] = [];
      texts.forEach((text, section) => {
        const pieces = tokenizer.encode(text, { add_special_tokens: false });
        if (pieces.length === 0) windows.push({ section, ids: [...prefix, ...suffix] });
        for (let start = 0; start < pieces.length; start += span) {
          windows.push({ section, ids: [...prefix, ...pieces.slice(start, start + span), ...suffix] });
        }
      });
      // Similar lengths share a batch, so little of each batch is padding.
      const order = windows.map((_, index) => index).sort((a, b) => windows[a]!.ids.length - windows[b]!.ids.length);
      const sums = texts.map(() => new Float64Array(labelCount));
      const weights = new Float64Array(texts.length);
      for (let offset = 0; offset < order.length; offset += options.batchSize) {
        const batch = order.slice(offset, offset + options.batchSize).map((index) => windows[index]!);
        const length = Math.max(...batch.map((window) => window.ids.length));
        const inputIds = new BigInt64Array(batch.length * length).fill(BigInt(padId));
        const attentionMask = new BigInt64Array(batch.length * length);
        batch.forEach((window, row) => {
          window.ids.forEach((token, column) => {
            inputIds[row * length + column] = BigInt(token);
            attentionMask[row * length + column] = 1n;
          });
        });
        const output = (await model({
          input_ids: new Tensor('int64', inputIds, [batch.length, length]),
          attention_mask: new Tensor('int64', attentionMask, [batch.length, length]),
        })) as { logits: { data: Float32Array } };
        const logits = output.logits.data;
        batch.forEach((window, row) => {
          const probabilities = softmax(logits.subarray(row * labelCount, (row + 1) * labelCount));
          // A window counts by its real tokens, so a short tail window does not outvote the body.
          const weight = window.ids.length;
          const sum = sums[window.section]!;
          probabilities.forEach((probability, label) => (sum[label] = sum[label]! + probability * weight));
          weights[window.section] = weights[window.section]! + weight;
        });
      }
      return sums.map((sum, section) => best(labels, Array.from(sum, (value) => value / (weights[section] || 1))));
    },
  };
}

async function loadZeroShot(transformers: Transformers, id: string, options: LoadClassifierOptions): Promise<SectionClassifier> {
  const candidates = [...(options.labels ?? [])];
  const classifier = await transformers.pipeline('zero-shot-classification', id, { dtype: 'fp32' });
  const tokenizer = classifier.tokenizer;
  const config = classifier.model.config as unknown as Record<string, unknown>;
  // The hypothesis takes part of the window; leave it room.
  const span = Math.max(16, windowLength(config, tokenizer.model_max_length) - 32);
  const hypothesisTemplate = options.hypothesisTemplate ?? 'This example is {}.';
  return {
    model: options.model,
    labels: candidates,
    async classify(texts) {
      const windows: { section: number; text: string; weight: number }[] = [];
      texts.forEach((text, section) => {
        const pieces = tokenizer.encode(text, { add_special_tokens: false });
        if (pieces.length <= span) {
          windows.push({ section, text, weight: Math.max(1, pieces.length) });
          return;
        }
        for (let start = 0; start < pieces.length; start += span) {
          const chunk = pieces.slice(start, start + span);
          windows.push({ section, text: tokenizer.decode(chunk, { skip_special_tokens: true }), weight: chunk.length });
        }
      });
      const sums = texts.map(() => new Float64Array(candidates.length));
      const weights = new Float64Array(texts.length);
      for (let offset = 0; offset < windows.length; offset += options.batchSize) {
        const batch = windows.slice(offset, offset + options.batchSize);
        const results = await classifier(
          batch.map((window) => window.text),
          candidates,
          { hypothesis_template: hypothesisTemplate, multi_label: false },
        );
        const list = (Array.isArray(results) ? results : [results]) as { labels: string[]; scores: number[] }[];
        list.forEach((result, row) => {
          const window = batch[row]!;
          const sum = sums[window.section]!;
          result.labels.forEach((label, index) => {
            const at = candidates.indexOf(label);
            if (at >= 0) sum[at] = sum[at]! + (result.scores[index] ?? 0) * window.weight;
          });
          weights[window.section] = weights[window.section]! + window.weight;
        });
      }
      return sums.map((sum, section) => best(candidates, Array.from(sum, (value) => value / (weights[section] || 1))));
    },
  };
}

function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let index = 0; index < logits.length; index++) max = Math.max(max, logits[index]!);
  const exps = Array.from(logits, (value) => Math.exp(value - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
}

function best(labels: readonly string[], scores: readonly number[]): SectionLabel {
  let top = 0;
  scores.forEach((score, index) => {
    if (score > scores[top]!) top = index;
  });
  return { label: labels[top] ?? 'unknown', score: scores[top] ?? 0 };
}
