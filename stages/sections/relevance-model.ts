import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { invalidOption, ModelLoadError } from '../../src/errors.js';
import { isHubModelId, packageRoot, queueLoad } from '../classify-model.js';

/**
 * The relevance backend: a cross-encoder that reads (task, text) pairs and
 * says how much each text serves the task. The default loads the model
 * shipped in `models/relevance` (see its README.md) with transformers.js;
 * tests and callers may inject their own.
 */
export interface RelevanceModel {
  /** The model id or path, as given (or the shipped folder). */
  readonly model: string;
  /** Tokens per pair, special tokens included; longer pairs are cut, the longer side first. */
  readonly maxLength: number;
  /**
   * One score in [0, 1] per text, in order: the model's probability that the
   * text serves `task`. Texts are scored in batches; an empty list gives an
   * empty list.
   */
  score(task: string, texts: readonly string[]): Promise<number[]>;
}

export interface LoadRelevanceModelOptions {
  /**
   * A local folder (absolute, or relative to the working directory) holding
   * config.json, tokenizer.json and onnx/model.onnx, or a Hugging Face hub id
   * (then `allowRemoteModels` must be true).
   * @default the shipped `models/relevance` folder
   */
  model?: string;
  /** Whether a hub id may be downloaded. @default false */
  allowRemoteModels?: boolean;
  /** Threads ONNX Runtime may use inside one model call. @default its own (one per core) */
  threads?: number;
  /** Pairs per model call. @default 64 */
  batchSize?: number;
}

const shippedModelName = 'relevance';

/** The relevance model that ships in the repository and the npm package. */
export function defaultRelevanceModelPath(): string {
  return path.join(packageRoot(), 'models', shippedModelName);
}

const loaded = new Map<string, Promise<RelevanceModel>>();

/**
 * Load a relevance cross-encoder, once per process per model and settings: a
 * failed load is cached too, so a run fails once with the same clear error.
 *
 * @example
 * const relevance = await loadRelevanceModel();
 * const scores = await relevance.score('What did he propose for the poor?', sentences);
 */
export function loadRelevanceModel(options: LoadRelevanceModelOptions = {}): Promise<RelevanceModel> {
  const settings = checkOptions(options);
  const key = JSON.stringify([isHubModelId(settings.model) ? settings.model : path.resolve(settings.model), settings.allowRemoteModels, settings.threads ?? null, settings.batchSize]);
  let model = loaded.get(key);
  if (!model) {
    model = queueLoad(() => load(settings));
    // Callers that never await must not see an unhandled rejection.
    model.catch(() => undefined);
    loaded.set(key, model);
  }
  return model;
}

/** Forget loaded relevance models (tests, long-lived processes switching models). */
export function clearRelevanceModelCache(): void {
  loaded.clear();
}

interface Settings {
  model: string;
  allowRemoteModels: boolean;
  threads: number | undefined;
  batchSize: number;
}

function checkOptions(options: LoadRelevanceModelOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { model = defaultRelevanceModelPath(), allowRemoteModels = false, threads, batchSize = 64 } = options;
  if (typeof model !== 'string' || model.trim() === '') throw invalidOption('model', 'a folder path or a hub id', model);
  if (typeof allowRemoteModels !== 'boolean') throw invalidOption('allowRemoteModels', 'a boolean', allowRemoteModels);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw invalidOption('threads', 'a positive integer', threads);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidOption('batchSize', 'a positive integer', batchSize);
  return { model, allowRemoteModels, threads, batchSize };
}

type Transformers = typeof import('@huggingface/transformers');

async function load(settings: Settings): Promise<RelevanceModel> {
  const hub = isHubModelId(settings.model);
  const transformers: Transformers = await import('@huggingface/transformers');
  const { env } = transformers;
  let id = settings.model;
  if (hub) {
    if (!settings.allowRemoteModels) {
      throw new ModelLoadError(`relevance model \`${settings.model}\` is a hub id and remote models are not allowed`, {
        fix: `pass \`allowRemoteModels: true\` to download \`${settings.model}\`, or give the path of a local model folder as \`model\``,
      });
    }
  } else {
    const folder = path.resolve(settings.model);
    const missing = ['config.json', 'tokenizer.json', path.join('onnx', 'model.onnx')].filter((file) => !existsSync(path.join(folder, file)));
    if (!isFolder(folder) || missing.length > 0) {
      throw new ModelLoadError(
        `relevance model folder \`${folder}\` is missing ${isFolder(folder) ? missing.map((file) => `\`${file}\``).join(', ') : 'or not a folder'}`,
        { fix: `point \`model\` at a folder holding config.json, tokenizer.json and onnx/model.onnx; the shipped one is ${defaultRelevanceModelPath()}` },
      );
    }
    env.localModelPath = path.dirname(folder) + path.sep;
    id = path.basename(folder);
  }
  env.allowLocalModels = true;
  // Remote loading is on only for the length of this load, and only for a hub id the user allowed.
  env.allowRemoteModels = hub && settings.allowRemoteModels;
  try {
    return await loadCrossEncoder(transformers, id, settings);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(`could not load relevance model \`${settings.model}\`: ${detail}`, {
      cause: error,
      fix: hub
        ? `check the hub id \`${settings.model}\` and the network, or download the model and give its folder as \`model\``
        : `check the model files under ${path.resolve(settings.model)} (config.json, tokenizer.json, onnx/model.onnx)`,
    });
  } finally {
    env.allowRemoteModels = false;
  }
}

function isFolder(folder: string): boolean {
  try {
    return statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Cut two token lists to `budget` tokens in all, the longer first: the same
 * rule as the training recipe (models/relevance/train/train.py `truncate`),
 * so scored pairs look like trained ones.
 */
export function truncatePair(a: readonly number[], b: readonly number[], budget: number): [number[], number[]] {
  if (a.length + b.length <= budget) return [[...a], [...b]];
  const half = Math.floor(budget / 2);
  if (a.length <= half) return [[...a], b.slice(0, budget - a.length)];
  if (b.length <= budget - half) return [a.slice(0, budget - b.length), [...b]];
  return [a.slice(0, half), b.slice(0, budget - half)];
}

/** Roughly how many characters a token takes at most in ordinary text; a prefix this long is tried before the whole text. */
const charsPerTokenBound = 16;

async function loadCrossEncoder(transformers: Transformers, id: string, settings: Settings): Promise<RelevanceModel> {
  const { AutoModelForSequenceClassification, AutoTokenizer, Tensor } = transformers;
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const session = settings.threads === undefined ? {} : { session_options: { intraOpNumThreads: settings.threads, interOpNumThreads: 1 } };
  const model = await AutoModelForSequenceClassification.from_pretrained(id, { dtype: 'fp32', ...session });
  const config = model.config as unknown as Record<string, unknown>;
  const positions = typeof config['max_position_embeddings'] === 'number' ? config['max_position_embeddings'] : 512;
  const declared = tokenizer.model_max_length;
  const usable = config['model_type'] === 'roberta' || config['model_type'] === 'xlm-roberta' ? positions - 2 : positions;
  const maxLength = Math.min(512, usable, typeof declared === 'number' && declared > 0 && declared < 100_000 ? declared : usable);
  // [CLS] … [SEP] read off an empty encoding; a pair is [CLS] task [SEP] text [SEP].
  const wrapped = tokenizer.encode('');
  const cls = wrapped.length >= 2 ? wrapped.slice(0, 1) : [];
  const sep = wrapped.length >= 1 ? wrapped.slice(-1) : [];
  const budget = Math.max(2, maxLength - cls.length - 2 * sep.length);
  const padId = BigInt(tokenizer.pad_token_id ?? 0);
  const usesTypes = (model.sessions?.['model']?.inputNames as string[] | undefined)?.includes('token_type_ids') ?? true;

  // Only the first `budget` tokens of a text can count: encode a prefix cut at a space, and the whole text only when the prefix falls short.
  const encode = (text: string): number[] => {
    const limit = budget * charsPerTokenBound;
    if (text.length > limit) {
      const cut = text.lastIndexOf(' ', limit);
      const head = tokenizer.encode(text.slice(0, cut > 0 ? cut : limit), { add_special_tokens: false });
      if (head.length >= budget) return head.slice(0, budget);
    }
    return tokenizer.encode(text, { add_special_tokens: false });
  };

  return {
    model: settings.model,
    maxLength,
    async score(task, texts) {
      if (texts.length === 0) return [];
      const taskIds = encode(task);
      const pairs = texts.map((text) => {
        const [a, b] = truncatePair(taskIds, encode(text), budget);
        return { ids: [...cls, ...a, ...sep, ...b, ...sep], first: cls.length + a.length + sep.length };
      });
      // Similar lengths share a batch, so little of each batch is padding.
      const order = pairs.map((_, index) => index).sort((left, right) => pairs[left]!.ids.length - pairs[right]!.ids.length);
      const scores = new Array<number>(texts.length).fill(0);
      for (let offset = 0; offset < order.length; offset += settings.batchSize) {
        const batch = order.slice(offset, offset + settings.batchSize);
        const length = Math.max(...batch.map((index) => pairs[index]!.ids.length));
        const inputIds = new BigInt64Array(batch.length * length).fill(padId);
        const attentionMask = new BigInt64Array(batch.length * length);
        const tokenTypes = new BigInt64Array(batch.length * length);
        batch.forEach((index, row) => {
          const pair = pairs[index]!;
          pair.ids.forEach((token, column) => {
            inputIds[row * length + column] = BigInt(token);
            attentionMask[row * length + column] = 1n;
            if (column >= pair.first) tokenTypes[row * length + column] = 1n;
          });
        });
        const inputs: Record<string, InstanceType<typeof Tensor>> = {
          input_ids: new Tensor('int64', inputIds, [batch.length, length]),
          attention_mask: new Tensor('int64', attentionMask, [batch.length, length]),
        };
        if (usesTypes) inputs['token_type_ids'] = new Tensor('int64', tokenTypes, [batch.length, length]);
        const output = (await model(inputs)) as { logits: { data: Float32Array; dims: number[] } };
        const width = output.logits.dims.at(-1) ?? 1;
        batch.forEach((index, row) => {
          const logits = output.logits.data.subarray(row * width, (row + 1) * width);
          scores[index] = probability(logits);
        });
      }
      return scores;
    },
  };
}

/** One logit: its sigmoid. Two or more (not relevant, relevant, …): the softmax share of the last. */
function probability(logits: Float32Array): number {
  if (logits.length === 1) return 1 / (1 + Math.exp(-logits[0]!));
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  let total = 0;
  for (const value of logits) total += Math.exp(value - max);
  return Math.exp(logits[logits.length - 1]! - max) / total;
}
