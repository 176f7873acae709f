/**
 * The options of distill, described once (zod). The same schema checks the
 * library (`createPipeline`), the config file (`--config`) and the values of
 * the command-line flags, so the three doors accept the same things and
 * refuse them with the same words:
 * - a bad value: "Expected `budget` to be a positive integer, got `-3` (number)."
 * - an unknown key: "Unknown option `bugdet`; did you mean `budget`?"
 *
 * Stage factories keep their own checks (a stage can be built alone), and
 * they refuse unknown keys with the same message (`unknownOption`).
 * Only shapes and simple ranges live here; what needs the stage's own data
 * (rule names, regular expressions) is checked by the factory.
 */
import { z } from 'zod';
import { OptionError } from './errors.js';
import type { PipelineOptions } from './pipeline.js';
import type { ModelPrice } from './pricing.js';
import type { CallModelOptions } from '../stages/llm.js';
import type { ClassifySectionsOptions } from '../stages/classify.js';
import type { ExtractEntitiesOptions } from '../stages/entities.js';
import type { FilterBoilerplateOptions } from '../stages/regex.js';
import type { SelectSectionsOptions } from '../stages/sections.js';
import type { ScoreWeights } from '../stages/sections/score.js';
import type { RouteRule } from './llm/route.js';
import type { AlertOptions } from './alerts.js';
import { localStageNames } from '../stages/names.js';

/** A shape that has exactly the keys of `T`: the schema cannot drift from the documented options type. */
type ShapeOf<T> = { [K in keyof T]-?: z.ZodType };

const positiveInteger = (expected = 'a positive integer') => z.number({ error: expected }).int({ error: expected }).min(1, { error: expected });
const nonNegativeInteger = (expected = 'a non-negative integer') => z.number({ error: expected }).int({ error: expected }).min(0, { error: expected });
const positiveNumber = (expected = 'a positive number') => z.number({ error: expected }).positive({ error: expected });
const nonNegativeNumber = (expected = 'a non-negative number') => z.number({ error: expected }).min(0, { error: expected });
const share = (expected = 'a number in (0, 1]') => z.number({ error: expected }).gt(0, { error: expected }).max(1, { error: expected });
const nonEmptyString = (expected = 'a non-empty string') => z.string({ error: expected }).refine((value) => value.trim() !== '', { error: expected });
const boolean = (expected = 'a boolean') => z.boolean({ error: expected });
const oneOf = <const Values extends readonly [string, ...string[]]>(values: Values) => z.enum(values, { error: `one of ${values.map((value) => `\`${value}\``).join(', ')}` });
const stringList = (expected = 'an array of strings') => z.array(z.string({ error: expected }), { error: expected });
/** An injected object or function: checked by the stage that uses it. */
const injected = <T>(expected: string, check: (value: unknown) => boolean) => z.custom<T>(check, { error: expected });
const hasMethod = (name: string) => (value: unknown) => typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';

/**
 * An object of options: an unknown key is refused with the nearest valid
 * name (the key itself is added to the message by `formatIssue`).
 */
function options<Shape extends z.core.$ZodLooseShape>(shape: Shape, expected = 'an object of options') {
  const names = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? suggestion(String(issue.keys[0]), names) : expected),
  });
}

const modelPrice = z.strictObject(
  { input: nonNegativeNumber(), cachedInput: nonNegativeNumber(), output: nonNegativeNumber() } satisfies ShapeOf<ModelPrice>,
  { error: (issue) => (issue.code === 'unrecognized_keys' ? suggestion(String(issue.keys[0]), ['input', 'cachedInput', 'output']) : 'a price `{input, cachedInput, output}` in US dollars per million tokens') },
);
const prices = z.record(z.string(), modelPrice, { error: 'an object of model name → `{input, cachedInput, output}`' });

const ruleSelectors = stringList('an array of rule names or families');
const documentFilter = options({ name: z.string({ error: 'a name' }), pattern: z.string({ error: 'a regular expression string' }), flags: z.string({ error: 'flags among `imsu`' }).optional() }, 'a filter `{name, pattern, flags}`');

export const regexOptionsSchema = options(
  {
    disable: ruleSelectors.optional(),
    rules: ruleSelectors.optional(),
    remove: ruleSelectors.optional(),
    userRules: z
      .array(
        options(
          {
            name: z.string({ error: 'a rule name' }),
            pattern: z.string({ error: 'a regular expression string' }),
            flags: z.string({ error: 'flags among `imsu`' }).optional(),
            replace: z.string({ error: 'a replacement string' }).optional(),
            scope: oneOf(['line', 'block', 'document']).optional(),
          },
          'a rule `{name, pattern, flags, replace, scope}`',
        ),
        { error: 'an array of `{name, pattern, flags, replace, scope}`' },
      )
      .optional(),
    include: z.array(documentFilter, { error: 'an array of `{name, pattern, flags}`' }).optional(),
    exclude: z.array(documentFilter, { error: 'an array of `{name, pattern, flags}`' }).optional(),
  } satisfies ShapeOf<FilterBoilerplateOptions>,
  'an object of regex stage options',
);

const entityTypeNames = ['person', 'organization', 'place', 'date', 'money', 'percent', 'number', 'email', 'url', 'phone'] as const satisfies readonly NonNullable<ExtractEntitiesOptions['types']>[number][];

export const entitiesOptionsSchema = options(
  {
    scope: oneOf(['all', 'task']).optional(),
    scopeBudgetFactor: positiveNumber().optional(),
    types: z.array(oneOf(entityTypeNames), { error: `a non-empty array of ${entityTypeNames.join(', ')}` }).min(1, { error: `a non-empty array of ${entityTypeNames.join(', ')}` }).optional(),
    workers: nonNegativeInteger().optional(),
    maxChars: positiveInteger().optional(),
    referenceDate: z.string({ error: 'an ISO date (YYYY-MM-DD)' }).regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'an ISO date (YYYY-MM-DD)' }).optional(),
    workerMemoryMb: z.number({ error: 'an integer of at least 16' }).int({ error: 'an integer of at least 16' }).min(16, { error: 'an integer of at least 16' }).optional(),
    topNames: nonNegativeInteger().optional(),
    backend: injected<ExtractEntitiesOptions['backend']>('an object with an `extract(job)` method', hasMethod('extract')).optional(),
  } satisfies ShapeOf<ExtractEntitiesOptions>,
  'an object of entities stage options',
);

export const classifyOptionsSchema = options(
  {
    model: nonEmptyString('a model folder path or a hub id').optional(),
    allowRemoteModels: boolean().optional(),
    task: oneOf(['text-classification', 'zero-shot-classification']).optional(),
    labels: z.array(nonEmptyString('an array of non-empty strings'), { error: 'an array of non-empty strings' }).optional(),
    hypothesisTemplate: z.string({ error: 'a string containing `{}`' }).refine((value) => value.includes('{}'), { error: 'a string containing `{}`' }).optional(),
    drop: z.array(nonEmptyString('an array of non-empty strings'), { error: 'an array of non-empty strings' }).optional(),
    threshold: z.number({ error: 'a number from 0 to 1' }).min(0, { error: 'a number from 0 to 1' }).max(1, { error: 'a number from 0 to 1' }).optional(),
    batchSize: positiveInteger().optional(),
    // Infinity cannot be written in JSON, but the library may pass it.
    maxWindows: injected<number>('a positive integer or `Infinity`', (value) => value === Infinity || (Number.isInteger(value) && (value as number) >= 1)).optional(),
    scope: oneOf(['all', 'task']).optional(),
    scopeBudgetFactor: positiveNumber().optional(),
    threads: positiveInteger().optional(),
    classifier: injected<ClassifySectionsOptions['classifier']>('an object with a `classify(texts)` method', hasMethod('classify')).optional(),
  } satisfies ShapeOf<ClassifySectionsOptions>,
  'an object of classify stage options',
);

const scoreWeightNames = ['context', 'neighbour', 'heading', 'entity', 'name', 'coverage', 'phrase', 'headingTerms', 'lead', 'meaning', 'region', 'regionUnits', 'feedback'] as const;
// Fails to compile when a weight is added to or removed from ScoreWeights without this list.
const scoreWeightShape = Object.fromEntries(scoreWeightNames.map((name) => [name, nonNegativeNumber().optional()])) as { [K in (typeof scoreWeightNames)[number]]: z.ZodOptional<z.ZodNumber> } satisfies ShapeOf<ScoreWeights>;

export const sectionsOptionsSchema = options(
  {
    budget: positiveInteger().optional(),
    granularity: oneOf(['sentence', 'section']).optional(),
    keepHeadings: boolean().optional(),
    dedupe: oneOf(['run', 'document', 'off']).optional(),
    dedupeThreshold: share().optional(),
    ratio: share().optional(),
    labelWeights: z.record(z.string(), nonNegativeNumber(), { error: 'an object of label → number' }).optional(),
    weights: options(scoreWeightShape, 'an object of scoring weights').optional(),
    relevanceModel: z.union([z.literal(false), nonEmptyString('a model folder, a hub id, or false')], { error: 'a model folder, a hub id, or false' }).optional(),
    allowRemoteModels: boolean().optional(),
    rerankWeight: share().optional(),
  } satisfies ShapeOf<SelectSectionsOptions>,
  'an object of sections stage options',
);

const routeRule = options(
  { smallModel: nonEmptyString('a model name').optional(), largeModel: nonEmptyString('a model name').optional(), maxPromptTokens: positiveInteger().optional(), complexTask: z.string({ error: 'a regular expression string' }).optional() } satisfies ShapeOf<RouteRule>,
  'a boolean or a rule `{smallModel, largeModel, maxPromptTokens, complexTask}`',
);

const cacheSetting = z.union([z.boolean(), nonEmptyString(), injected('', hasMethod('get'))], {
  error: 'a boolean, a folder, a `redis://host:port` URL or a cache store',
});

/** The llm stage's options that also have a flag, and so may be given at the top level too. */
export const llmShortcuts = ['maxTokens', 'rpm', 'tpm', 'maxRetries', 'maxCost', 'cache', 'batch', 'route'] as const;

const llmShape = {
  model: nonEmptyString('a model name').optional(),
  maxTokens: positiveInteger().optional(),
  temperature: z.number({ error: 'a number from 0 to 2' }).min(0, { error: 'a number from 0 to 2' }).max(2, { error: 'a number from 0 to 2' }).optional(),
  dryRun: boolean().optional(),
  apiKey: z.string({ error: 'a string' }).optional(),
  baseURL: nonEmptyString('a URL').optional(),
  timeoutMs: positiveNumber('a positive number of milliseconds').optional(),
  maxTimeoutRetries: z.number({ error: 'a whole number, 0 or more' }).int({ error: 'a whole number, 0 or more' }).min(0, { error: 'a whole number, 0 or more' }).optional(),
  concurrency: positiveInteger().optional(),
  rpm: positiveInteger().optional(),
  tpm: positiveInteger().optional(),
  windowMs: positiveNumber('a positive number of milliseconds').optional(),
  maxRetries: nonNegativeInteger('a whole number, 0 or more').optional(),
  retryBaseDelayMs: nonNegativeNumber('a non-negative number of milliseconds').optional(),
  retryMaxDelayMs: nonNegativeNumber('a non-negative number of milliseconds').optional(),
  maxRetryAfterMs: nonNegativeNumber('a non-negative number of milliseconds').optional(),
  cache: cacheSetting.optional(),
  cacheTtlSeconds: positiveInteger('a positive integer of seconds').optional(),
  maxCost: z.number({ error: 'a number of US dollars ≥ 0' }).min(0, { error: 'a number of US dollars ≥ 0' }).optional(),
  batch: boolean().optional(),
  batchDirectory: nonEmptyString('a folder').optional(),
  route: z.union([z.boolean(), routeRule], { error: 'a boolean or a rule `{smallModel, largeModel, maxPromptTokens, complexTask}`' }).optional(),
  prices: prices.optional(),
  client: injected<CallModelOptions['client']>('an OpenAI client (with `chat.completions.create`)', (value) => typeof value === 'object' && value !== null && 'chat' in value).optional(),
  clock: injected<CallModelOptions['clock']>('a clock `{now(), sleep(ms)}`', hasMethod('now')).optional(),
  random: injected<CallModelOptions['random']>('a function returning a number in [0, 1)', (value) => typeof value === 'function').optional(),
} satisfies ShapeOf<CallModelOptions>;

export const llmOptionsSchema = options(llmShape, 'an object of llm stage options');

const stageList = `a list of ${localStageNames.join(', ')}`;

/** What the library and the config file share: everything that can be written in JSON. */
const dataShape = {
  task: nonEmptyString(),
  budget: positiveInteger().optional(),
  model: nonEmptyString('a model name').optional(),
  stages: z
    .array(z.string({ error: stageList }), { error: stageList })
    .refine((names) => names.every((name) => (localStageNames as readonly string[]).includes(name)), { error: stageList })
    .optional(),
  maxBytes: positiveInteger('a positive integer (bytes)').optional(),
  /** `false` turns the llm stage off; an object gives its options (and keeps it on). */
  llm: z.union([z.boolean(), llmOptionsSchema], { error: 'a boolean, or an object of llm stage options' }).optional(),
  dryRun: boolean().optional(),
  spans: boolean().optional(),
  tags: z.record(nonEmptyString('a non-empty tag name'), z.string({ error: 'a string' }), { error: 'an object of tag name → string' }).optional(),
  concurrency: positiveInteger().optional(),
  threads: positiveInteger().optional(),
  prices: prices.optional(),
  regex: regexOptionsSchema.optional(),
  entities: entitiesOptionsSchema.optional(),
  classify: classifyOptionsSchema.optional(),
  sections: sectionsOptionsSchema.optional(),
  ...Object.fromEntries(llmShortcuts.map((name) => [name, llmShape[name]])) as Pick<typeof llmShape, (typeof llmShortcuts)[number]>,
};

/** `createPipeline`'s options: the config file's, plus what JSON cannot hold. */
export const pipelineOptionsSchema = options(
  {
    ...dataShape,
    tokenizer: injected('a tokenizer `{count, encode, decode}`', hasMethod('count')).optional(),
    onStage: injected('a function', (value) => typeof value === 'function').optional(),
    signal: injected('an AbortSignal', (value) => value instanceof AbortSignal).optional(),
  } satisfies ShapeOf<PipelineOptions>,
  'an object of options',
);

const httpUrl = 'an http(s) URL';
const alertsSchema = options(
  {
    usd: z.union([positiveNumber('a positive number of US dollars'), z.array(positiveNumber('a positive number of US dollars'), { error: 'an array of positive numbers of US dollars' })], { error: 'a positive number of US dollars, or an array of them' }).optional(),
    webhook: z.string({ error: httpUrl }).refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), { error: httpUrl }).optional(),
  } satisfies ShapeOf<AlertOptions>,
  'an object `{usd, webhook}`',
);

/**
 * The config file (`--config`): the library's options that JSON can hold,
 * plus what only the CLI does: `out` (where records go), `report` (the
 * HTML report) and `alerts` (spend thresholds).
 */
export const configFileSchema = options(
  {
    ...dataShape,
    task: nonEmptyString().optional(),
    out: nonEmptyString('a file path').optional(),
    report: nonEmptyString('a file path').optional(),
    alerts: alertsSchema.optional(),
  },
  'a JSON object of options',
);

export type ConfigFileData = z.infer<typeof configFileSchema>;

/** Keys renamed since an earlier version, so the error can point to the new name. */
const renamed: Record<string, string> = { llmOptions: 'llm' };

export interface ParseOptions {
  /** How an option path is named in messages. @default the path in backticks */
  name?: (path: string) => string;
  /** How the bad value is shown. @default `` `value` (type) `` */
  got?: (path: string, value: unknown) => string;
}

/**
 * Check `value` against `schema`; throw an `OptionError` for the first
 * problem, naming the option, the bad value and, for an unknown key, the
 * nearest valid name. Returns `value` itself (no copy): injected objects
 * stay the same objects.
 */
export function checkOptions<T>(schema: z.ZodType<T>, value: unknown, parse: ParseOptions = {}): T {
  const result = schema.safeParse(value);
  if (result.success) return value as T;
  const issue = firstIssue(result.error.issues);
  throw issueError(issue, value, parse.name ?? ((path) => `\`${path}\``), parse.got ?? ((_, bad) => formatGot(bad)));
}

/** A union reports the issues of each member; the member that got furthest says the most. */
function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  const issue = issues[0]!;
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const deepest = issue.errors
      .map((branch) => branch[0])
      .filter((branch): branch is z.core.$ZodIssue => branch !== undefined && (branch.path.length > 0 || branch.code === 'unrecognized_keys'))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest) return { ...firstIssue([deepest]), path: [...issue.path, ...deepest.path] };
  }
  return issue;
}

function issueError(issue: z.core.$ZodIssue, root: unknown, name: (path: string) => string, got: (path: string, value: unknown) => string): OptionError {
  if (issue.code === 'unrecognized_keys') {
    const key = String(issue.keys[0]);
    const path = formatPath([...issue.path, key]);
    return new OptionError('E_OPTION_UNKNOWN', `Unknown option ${name(path)}; ${issue.message}`, { option: path, value: valueAt(root, [...issue.path, key]) });
  }
  const path = formatPath(issue.path);
  const value = valueAt(root, issue.path);
  return new OptionError('E_OPTION_INVALID', `Expected ${name(path || 'options')} to be ${issue.message}, got ${got(path, value)}.`, { option: path || 'options', value });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  return value;
}

export function formatGot(value: unknown): string {
  return `\`${formatValue(value)}\` (${typeof value})`;
}

export function formatValue(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** "did you mean `budget`?" when a valid name is near, else the list of valid names. */
export function suggestion(key: string, names: readonly string[]): string {
  const rename = renamed[key];
  if (rename && names.includes(rename)) return `did you mean \`${rename}\`? (it was renamed)`;
  const nearest = nearestName(key, names);
  return nearest ? `did you mean \`${nearest}\`?` : `expected one of: ${names.map((name) => `\`${name}\``).join(', ')}`;
}

/** The valid name nearest to `key` by edit distance (case-insensitive), if it is near enough to be a typo. */
export function nearestName(key: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  // A typo changes a few letters; beyond that the nearest name is a guess, not a suggestion.
  const limit = Math.max(2, Math.floor(key.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const table: number[][] = Array.from({ length: rows }, (_, row) => Array.from({ length: columns }, (_, column) => (row === 0 ? column : column === 0 ? row : 0)));
  for (let row = 1; row < rows; row++) {
    for (let column = 1; column < columns; column++) {
      const cost = a[row - 1] === b[column - 1] ? 0 : 1;
      let distance = Math.min(table[row - 1]![column]! + 1, table[row]![column - 1]! + 1, table[row - 1]![column - 1]! + cost);
      if (row > 1 && column > 1 && a[row - 1] === b[column - 2] && a[row - 2] === b[column - 1]) distance = Math.min(distance, table[row - 2]![column - 2]! + 1);
      table[row]![column] = distance;
    }
  }
  return table[a.length]![b.length]!;
}

/** A stage factory's check for unknown keys, from its schema's shape. */
export function rejectUnknownOptions(options: object, schema: { shape: object }): void {
  const names = Object.keys(schema.shape);
  for (const key of Object.keys(options)) if (!names.includes(key)) throw unknownOption(key, names);
}

/** A stage factory's check for unknown keys, with the same message as the schema's. */
export function unknownOption(key: string, names: readonly string[], prefix = ''): OptionError {
  const path = `${prefix}${key}`;
  return new OptionError('E_OPTION_UNKNOWN', `Unknown option \`${path}\`; ${suggestion(key, names)}`, { option: path, value: key });
}
