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
  /**
   * One label per text, in order. Long texts are read in windows and their
   * scores averaged. A backend may ignore `options` (an injected one often
   * has no windows); the shipped one honours them.
   */
  classify(texts: readonly string[], options?: ClassifyCallOptions): Promise<SectionLabel[]>;
}

export interface ClassifyCallOptions {
  /**
   * Read a long text through at most this many windows, spread over it: the
   * first for 1, the first and the last for 2, evenly spaced beyond.
   * @default Infinity (every window)
   */
  maxWindows?: number;
  /** Windows per model call. @default the `batchSize` the classifier was loaded with */
  batchSize?: number;
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
  /**
   * Threads ONNX Runtime may use inside one model call; `undefined` leaves
   * its default (one per core).
   */
  threads?: number;
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
    options.threads ?? null,
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

/**
 * transformers.js reads `env` when a load starts; every model load of the
 * process (this classifier, the relevance model) runs through this one
 * queue, one at a time, so no two see each other's settings.
 */
let loadQueue: Promise<unknown> = Promise.resolve();
export function queueLoad<T>(task: () => Promise<T>): Promise<T> {
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

/**
 * Where each window read from a text of `length` tokens starts: every
 * `span` tokens when that makes at most `maxWindows` windows; otherwise
 * `maxWindows` full windows spread evenly from the first token to the last
 * (the first alone for 1, the first and the last for 2).
 */
export function windowStarts(length: number, span: number, maxWindows: number): number[] {
  const count = Math.max(1, Math.ceil(length / span));
  if (count <= maxWindows) return Array.from({ length: count }, (_, index) => index * span);
  if (maxWindows === 1) return [0];
  const last = length - span;
  return Array.from({ length: maxWindows }, (_, index) => Math.round((index * last) / (maxWindows - 1)));
}

export interface ReadWindowsOptions {
  /** Token ids of a text, without special tokens. */
  encode: (text: string) => number[];
  /** Tokens per window. */
  span: number;
  maxWindows: number;
  /**
   * Whether the tokenizer never lets a token span whitespace and reads each
   * word alone (BERT WordPiece): then a text cut at a space encodes to an
   * exact prefix or suffix of the whole text's tokens, and a long text's
   * first and last windows can be read off its ends without encoding the middle.
   */
  cutsAtSpaces: boolean;
}

/** Roughly how many characters one window takes; a cut that falls short is widened, so this only sets the first guess. */
const charsPerTokenGuess = 6;

/** The token ids of each window `windowStarts` picks for `text`. */
export function readWindows(text: string, options: ReadWindowsOptions): number[][] {
  const { encode, span, maxWindows } = options;
  if (options.cutsAtSpaces && maxWindows <= 2) {
    const ends = readEnds(text, options);
    if (ends) return maxWindows === 1 ? [ends.head] : [ends.head, ends.tail];
  }
  const pieces = encode(text);
  if (pieces.length === 0) return [[]];
  return windowStarts(pieces.length, span, maxWindows).map((start) => pieces.slice(start, start + span));
}

/**
 * The first `span` tokens of `text` and its last `span` tokens, encoded from
 * two disjoint cuts at spaces, or `undefined` when the text is too short for
 * two disjoint full windows (then it is encoded whole).
 */
function readEnds(text: string, options: ReadWindowsOptions): { head: number[]; tail: number[] } | undefined {
  const { encode, span } = options;
  let chars = span * charsPerTokenGuess;
  let head: number[] | undefined;
  let headEnd = 0;
  while (head === undefined) {
    headEnd = spaceAfter(text, chars);
    if (headEnd >= text.length) return undefined;
    const tokens = encode(text.slice(0, headEnd));
    if (tokens.length >= span) head = tokens.slice(0, span);
    else chars *= 2;
  }
  if (options.maxWindows === 1) return { head, tail: [] };
  chars = span * charsPerTokenGuess;
  for (;;) {
    const tailStart = spaceBefore(text, text.length - chars);
    // The two cuts would overlap: the text holds fewer than two windows' worth beyond doubt, so read it whole.
    if (tailStart <= headEnd) return undefined;
    const tokens = encode(text.slice(tailStart));
    if (tokens.length >= span) return { head, tail: tokens.slice(-span) };
    chars *= 2;
  }
}

const space = /[ \t\n\r]/;

/** The index of the first space at or after `index` (the text's length if none). */
function spaceAfter(text: string, index: number): number {
  for (let at = Math.max(0, index); at < text.length; at++) if (space.test(text[at]!)) return at;
  return text.length;
}

/** The index of the last space at or before `index` (-1 if none). */
function spaceBefore(text: string, index: number): number {
  for (let at = Math.min(text.length - 1, index); at >= 0; at--) if (space.test(text[at]!)) return at;
  return -1;
}

/** Whether the tokenizer is BERT's: WordPiece words split at whitespace before anything else (see `ReadWindowsOptions.cutsAtSpaces`). */
function cutsAtSpaces(tokenizer: unknown): boolean {
  const json = (tokenizer as { _tokenizerJSON?: { model?: { type?: unknown }; pre_tokenizer?: { type?: unknown } } })._tokenizerJSON;
  return json?.model?.type === 'WordPiece' && json.pre_tokenizer?.type === 'BertPreTokenizer';
}

async function loadTextClassification(
  transformers: Transformers,
  id: string,
  options: LoadClassifierOptions,
): Promise<SectionClassifier> {
  const { AutoModelForSequenceClassification, AutoTokenizer, Tensor } = transformers;
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model = await AutoModelForSequenceClassification.from_pretrained(id, { dtype: 'fp32', ...sessionOptions(options) });
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
  const padId = BigInt(tokenizer.pad_token_id ?? 0);
  const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false });
  const exactCuts = cutsAtSpaces(tokenizer);

  return {
    model: options.model,
    labels,
    async classify(texts, call = {}) {
      const maxWindows = call.maxWindows ?? Number.POSITIVE_INFINITY;
      const batchSize = call.batchSize ?? options.batchSize;
      const windows: Window[] = [];
      texts.forEach((text, section) => {
        for (const ids of readWindows(text, { encode, span, maxWindows, cutsAtSpaces: exactCuts })) {
          windows.push({ section, ids: [...prefix, ...ids, ...suffix] });
        }
      });
      // Similar lengths share a batch, so little of each batch is padding.
      const order = windows.map((_, index) => index).sort((a, b) => windows[a]!.ids.length - windows[b]!.ids.length);
      const sums = texts.map(() => new Float64Array(labelCount));
      const weights = new Float64Array(texts.length);
      for (let offset = 0; offset < order.length; offset += batchSize) {
        const batch = order.slice(offset, offset + batchSize).map((index) => windows[index]!);
        const length = Math.max(...batch.map((window) => window.ids.length));
        const inputIds = new BigInt64Array(batch.length * length).fill(padId);
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

/** ONNX Runtime session options: a thread count when one was asked for. */
function sessionOptions(options: LoadClassifierOptions): { session_options?: Record<string, unknown> } {
  if (options.threads === undefined) return {};
  return { session_options: { intraOpNumThreads: options.threads, interOpNumThreads: 1 } };
}

async function loadZeroShot(transformers: Transformers, id: string, options: LoadClassifierOptions): Promise<SectionClassifier> {
  const candidates = [...(options.labels ?? [])];
  const classifier = await transformers.pipeline('zero-shot-classification', id, { dtype: 'fp32', ...sessionOptions(options) });
  const tokenizer = classifier.tokenizer;
  const config = classifier.model.config as unknown as Record<string, unknown>;
  // The hypothesis takes part of the window; leave it room.
  const span = Math.max(16, windowLength(config, tokenizer.model_max_length) - 32);
  const hypothesisTemplate = options.hypothesisTemplate ?? 'This example is {}.';
  return {
    model: options.model,
    labels: candidates,
    async classify(texts, call = {}) {
      const maxWindows = call.maxWindows ?? Number.POSITIVE_INFINITY;
      const batchSize = call.batchSize ?? options.batchSize;
      const windows: { section: number; text: string; weight: number }[] = [];
      texts.forEach((text, section) => {
        const pieces = tokenizer.encode(text, { add_special_tokens: false });
        if (pieces.length <= span) {
          windows.push({ section, text, weight: Math.max(1, pieces.length) });
          return;
        }
        for (const start of windowStarts(pieces.length, span, maxWindows)) {
          const chunk = pieces.slice(start, start + span);
          windows.push({ section, text: tokenizer.decode(chunk, { skip_special_tokens: true }), weight: chunk.length });
        }
      });
      const sums = texts.map(() => new Float64Array(candidates.length));
      const weights = new Float64Array(texts.length);
      for (let offset = 0; offset < windows.length; offset += batchSize) {
        const batch = windows.slice(offset, offset + batchSize);
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
