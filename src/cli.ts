import { createReadStream, createWriteStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readConfig, type ConfigFile } from './config.js';
import { DistillDocument } from './document.js';
import { DistillError, OptionError, UsageError } from './errors.js';
import { checkOptions, configFileSchema, formatValue, llmShortcuts, nearestName } from './options.js';
import { defaultThreads } from './local-threads.js';
import { readablePath, walkInputs } from './loaders/walk.js';
import type { LocalStageName, PipelineInput, PipelineOptions } from './pipeline.js';
import { formatUsd } from './pricing.js';
import { postAlert, safeUrl, SpendWatch, type AlertOptions } from './alerts.js';
import { redactKnown, redactSecrets } from './redact.js';
import { version } from './package-root.js';
import { ProgressLine } from './progress.js';
import { formatLlmLines, formatSummary, percent, formatInt } from './report/terminal.js';
import type { LlmStage } from '../stages/llm.js';
import type { DistillRecord } from './record.js';
import { RunSummary } from './summary.js';
import { localStageNames } from '../stages/names.js';

/**
 * The CLI is a thin shell over the library (after vitest's node/cli): it
 * parses flags, builds a pipeline, streams records out and prints the
 * summary. Exit codes: 0 all documents ok or skipped, 1 some failed, 2 usage,
 * 130 interrupted (SIGINT), 143 terminated (SIGTERM).
 */


export const mainHelp = `distill ${version}: cut what GPT-4o costs on documents.

Documents go through cheap local stages (regex boilerplate filter, entity
extraction, an in-process section classifier, task-aware section selection
under an exact token budget); only what is left reaches the model. Every
stage reports the tokens it removed and what that is worth.

Usage:
  distill run <paths...> --task <text> [options]   distil documents (and ask the model)
  distill run - --task <text>                      read JSONL documents from stdin
  distill <command> --help                         help for one command

Commands:
  run      run the pipeline over files, folders or stdin
  bench    measure what each stage saves on your own folder (sends nothing)
  report   make the HTML report of records already written (JSONL)
  batch    status | collect: follow and collect a --batch run (Batch API)
  rules    list the regex rules by name and family, to use with --disable-rule

Options:
  -h, --help     show help
  -v, --version  show the version

Run "distill run --help" to start.`;

export const benchHelp = `distill bench <paths...> --task <text> [--budget N] [--stages list] [--concurrency N] [--threads N|auto] [--out results.json]

Runs the local stages over your documents without sending anything, and
prints what each stage removed (tokens in, tokens out, % removed, cumulative
%, time, MB/s), what the prompts would cost at gpt-4o and gpt-4o-mini prices
with and without distillation, and head truncation to the same budget as a
baseline. --out also writes the figures as JSON.

Example:
  distill bench ~/mail --task "List every deadline" --budget 500`;

export const runHelp = `distill run <paths...> --task <text> [options]

Reads every file under the given paths (txt, md, html, pdf, eml, and text
with no extension; folders are walked recursively, hidden files skipped),
runs the local stages, and sends the distilled text with the task to the
model. A symlink loop, a dangling link or a link out of the folder is
skipped, with a record that says so. Without OPENAI_API_KEY, or
with --dry-run, nothing is sent: each record shows the request that would go
out and the summary what it would cost.

Records (one JSON object per input) go to --out, or to stdout when it is
a pipe. The per-stage table and the summary go to stderr.

Options:
  --task <text>          what to ask about each document (required); section
                         selection scores sections against it
  --budget <tokens>      most tokens of each distilled document, counted
                         exactly in o200k_base, never exceeded, whatever
                         --stages holds (without the sections stage, a
                         longer document is cut after the last whole
                         sentence that fits). Without it
                         (and without --ratio) nothing the task could use is
                         cut: only near duplicates and noise sections
                         (quoted replies, signatures, disclaimers) that
                         share nothing with the task go
  --ratio <share>        with no --budget, keep this share of each
                         document's tokens, most relevant first (0.2 keeps
                         a fifth)
  --model <name>         chat model, for the request and the prices
                         (default: gpt-4o)
  --stages <list>        local stages to run, comma-separated, always in
                         pipeline order (default: ${localStageNames.join(',')})
  --out <file.jsonl>     write records here (default: stdout when piped)
  --dry-run              send nothing; show the request and its cost
  --max-bytes <size>     skip files larger than this, unread, with a record
                         that says so; bytes, or with kB, MB or GB
                         (default: 50MB)
  --concurrency <n>      documents in flight at once (default: 4, and at
                         least twice --threads)
  --threads <n|auto>     threads that run the local stages, a document each
                         at a time; auto is one per core, up to 4 (default:
                         auto); 1 runs in one thread. The output is the
                         same whatever the thread count
  --root <folder>        with "-": a {"path": …} line may only name a file
                         under this folder (default: the current folder);
                         other lines get an error record, unread
  --allow-any-path       with "-": let {"path": …} lines name any file (only
                         for JSONL you trust)
  --config <file.json>   options from a JSON file, in createPipeline's
                         shape (one key per stage, "llm" for the model
                         calls; rpm, maxCost and the other llm flags may
                         also go at the top level; "out", "report" and
                         "alerts" too); flags
                         override it
  --disable-rule <name>  turn off a regex rule or family (repeatable), for
                         example --disable-rule regex:web-share-links
  --rules <list>         run only these regex rules or families
  --classifier-model <m> a local model folder or a Hugging Face hub id
                         (default: the model shipped in models/)
  --allow-remote-models  let a hub id download (needs network)
  --quiet                no summary on stderr

Report, tags and alerts:
  --report <file.html>   write the run's HTML report here: one file that
                         opens offline, with the stage funnel, the dollars,
                         cost per tag and, per document, what was cut and
                         by which rule (turns --spans on)
  --title <text>         the report's title (default: the task)
  --spans                store in each record what removed each part of
                         the document (for "distill report" later); off,
                         records do not grow
  --tag <key=value>      tag every document (repeatable), to group costs
                         by in the report; a file in a subfolder also gets
                         folder=<its first folder>, and a JSONL line may
                         carry "tags"
  --alert-usd <usd>      warn on stderr (and in the report) when the run's
                         spend (billed, or estimated in a dry run) reaches
                         this (repeatable; "alerts": {"usd": […]} in the
                         config file)
  --alert-webhook <url>  also POST each alert as JSON to this URL; it is
                         never printed with its query string

Model calls (the llm stage):
  --max-tokens <n>       answer length cap; cost estimates assume it is used
                         in full (default: 1024)
  --rpm <n>, --tpm <n>   requests / tokens (prompt + max-tokens) per minute;
                         no 60-second window ever holds more, retries included
  --timeout <s>          seconds to wait for each answer (default: 60). A
                         timeout is retried once; when the server answers no
                         request for that long twice over, the run stops
                         sending and the rest get error records at once
  --max-retries <n>      retries of 429, 5xx and resets, with capped
                         exponential backoff (default: 6); 400, 401, 403,
                         404 and insufficient_quota are never retried
  --cache <dir|redis://host:port>
                         response cache (default: .distill-cache/ here); a
                         rerun sends nothing for documents already answered
  --no-cache             do not read or write the cache
  --max-cost <usd>       stop before a request that could take spend past
                         this; the rest are skipped with the reason
  --batch                queue requests for the Batch API (half price, within
                         24 h); collect with "distill batch collect"
  --route                send small, simple prompts to gpt-4o-mini

Environment:
  OPENAI_API_KEY         sends requests when set (unless --dry-run)
  OPENAI_BASE_URL        an OpenAI-compatible endpoint (default: OpenAI)

Exit codes: 0 every document ok or skipped; 1 some failed; 2 bad usage;
130 interrupted by Ctrl-C, 143 by SIGTERM (finished records are written;
rerun to go on).

Examples:
  distill run fixtures/docs --task "Who is involved, and what figures are given?"
  distill run mail/ --task "List every deadline" --budget 500 --out deadlines.jsonl
  distill run report.pdf --task "Summarise the costs" --stages regex,sections --dry-run
  printf '{"id":"a","text":"…"}\\n' | distill run - --task "Summarise" --dry-run
  distill run fixtures/docs --task "Who is involved?" --budget 500 --report r.html`;

const runFlags = {
  task: { type: 'string' },
  budget: { type: 'string' },
  ratio: { type: 'string' },
  model: { type: 'string' },
  stages: { type: 'string' },
  out: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'max-bytes': { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  config: { type: 'string' },
  'disable-rule': { type: 'string', multiple: true },
  rules: { type: 'string' },
  'classifier-model': { type: 'string' },
  'max-tokens': { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'max-retries': { type: 'string' },
  timeout: { type: 'string' },
  cache: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'max-cost': { type: 'string' },
  batch: { type: 'boolean' },
  route: { type: 'boolean' },
  'allow-remote-models': { type: 'boolean' },
  quiet: { type: 'boolean' },
  root: { type: 'string' },
  'allow-any-path': { type: 'boolean' },
  report: { type: 'string' },
  spans: { type: 'boolean' },
  tag: { type: 'string', multiple: true },
  'alert-usd': { type: 'string', multiple: true },
  'alert-webhook': { type: 'string' },
  title: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Where SIGINT and SIGTERM come from and how a hard exit leaves: the process, or a stand-in in tests. */
export interface CliProcess {
  on(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** @default process */
  process?: CliProcess;
}

const defaultIo = (): CliIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, process });

/** The exit code of a run stopped by a signal: 128 + its number, as shells report it. */
const signalExitCodes: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      // Asked for, help is the output (`distill --help | less`); as the answer to a usage error, it goes with the error.
      (command === undefined ? io.stderr : io.stdout).write(`${mainHelp}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '-v' || command === '--version') {
      io.stdout.write(`${version}\n`);
      return 0;
    }
    if (command === 'run') return await runCommand(rest, io);
    if (command === 'bench') return await benchCommand(rest, io);
    if (command === 'report') return await reportCommand(rest, io);
    if (command === 'rules') {
      const { ruleCatalogue } = await import('../stages/regex/catalogue.js');
      const { formatTable } = await import('./report/terminal.js');
      io.stdout.write(`${formatTable(['rule', 'family', 'what it removes'], ruleCatalogue.map((rule) => [rule.name, rule.family, rule.description]))}\n`);
      io.stderr.write('\nTurn a rule or a whole family off with --disable-rule regex:<name> or --disable-rule <family>; run only some with --rules.\n');
      return 0;
    }
    if (command === 'batch') {
      const { batchCommand } = await import('./llm/batch-command.js');
      return await batchCommand(rest, io);
    }
    throw new UsageError(`unknown command "${command}"`, { fix: 'run "distill --help" for the commands' });
  } catch (error) {
    return reportFatal(error, io);
  }
}

function reportFatal(error: unknown, io: CliIo): number {
  const stderr = { write: (text: string) => io.stderr.write(redactSecrets(text, [io.env.OPENAI_API_KEY])) };
  return reportFatalTo(error, stderr);
}

function reportFatalTo(error: unknown, io: { write(text: string): unknown }): number {
  if (error instanceof UsageError || error instanceof OptionError) {
    io.write(`distill: ${error.message}\n${error instanceof DistillError && error.fix ? `  fix: ${error.fix}\n` : ''}`);
    return 2;
  }
  if (error instanceof DistillError) {
    io.write(`distill: ${error.message} [${error.code}]\n${error.fix ? `  fix: ${error.fix}\n` : ''}`);
    return 1;
  }
  io.write(`distill: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

function parse(argv: string[]) {
  return parseFlags(argv, runFlags, 'run');
}

function parseFlags<Flags extends NonNullable<ParseArgsConfig['options']>>(argv: string[], flags: Flags, command: string) {
  try {
    return parseArgs({ args: joinNegativeValues(argv), options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const fix = `run "distill ${command} --help" for the options`;
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    if (unknown !== undefined) {
      const nearest = nearestName(unknown.replace(/=.*$/, ''), Object.keys(flags).map((name) => `--${name}`));
      throw new UsageError(`unknown option ${unknown}${nearest ? `; did you mean ${nearest}?` : ''}`, { fix });
    }
    const missing = /^Option '(--[\w-]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(message)?.[1];
    if (missing !== undefined) throw new UsageError(`${missing} needs a value`, { fix: `give it one, as in ${missing} <value> or ${missing}=<value>` });
    throw new UsageError(message.replace(/\. To specify .*$/s, ''), { fix });
  }
}

/** `--budget -5` is a value, not a flag: join it (`--budget=-5`) so the value's own check explains what is wrong with it. */
function joinNegativeValues(argv: string[]): string[] {
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const next = argv[index + 1];
    const flag = runFlags[arg.slice(2) as keyof typeof runFlags] as { type: string } | undefined;
    if (arg.startsWith('--') && flag?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      index++;
    } else joined.push(arg);
  }
  return joined;
}

const sizeUnits: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9 };

/** A size in bytes: `50000000`, `50MB`, `1.5 GB` (decimal units, as the records print them). */
function byteSize(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(-?\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? sizeUnits[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new UsageError(`--${name} must be a size in bytes, like 50000000 or 50MB, got "${value}"`);
  return Math.round(Number(match[1]) * unit);
}

/** Checked with the other flags; only `auto` is resolved here. */
function threadCount(value: string | number | undefined): number {
  return value === undefined || value === 'auto' ? defaultThreads() : Number(value);
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((item) => item.trim()).filter(Boolean);
}

/** Each flag's place in the options, so a bad flag value is named by its flag. */
const flagOfOption: Record<string, string> = {
  task: '--task',
  budget: '--budget',
  model: '--model',
  stages: '--stages',
  out: '--out',
  dryRun: '--dry-run',
  maxBytes: '--max-bytes',
  concurrency: '--concurrency',
  threads: '--threads',
  'regex.disable': '--disable-rule',
  'regex.rules': '--rules',
  'classify.model': '--classifier-model',
  'classify.allowRemoteModels': '--allow-remote-models',
  'sections.ratio': '--ratio',
  maxTokens: '--max-tokens',
  rpm: '--rpm',
  tpm: '--tpm',
  maxRetries: '--max-retries',
  cache: '--cache',
  maxCost: '--max-cost',
  batch: '--batch',
  route: '--route',
  tags: '--tag',
  spans: '--spans',
  report: '--report',
  'alerts.usd': '--alert-usd',
  'alerts.webhook': '--alert-webhook',
};

/** The option path a flag's issue is about: `regex.disable[2]` is `--disable-rule`. */
const flagOf = (path: string) => flagOfOption[path.replace(/\[\d+\]$/, '')] ?? `\`${path}\``;

const numberOrRaw = (value: string | undefined) => (value === undefined ? undefined : value.trim() === '' ? Number.NaN : Number(value));

/**
 * Merge the config file and the flags into pipeline options; flags win.
 * Flag values are converted from text and then checked by the same schema
 * as the config file and the library, so each is refused with the same
 * words, named by its flag: "Expected --budget to be a positive integer, got -5."
 */
export async function resolveRunOptions(
  values: ReturnType<typeof parse>['values'],
  env: NodeJS.ProcessEnv,
): Promise<{ options: PipelineOptions; dryRunReason?: string; out?: string; report?: string; alerts?: AlertOptions }> {
  const config: ConfigFile = values.config ? await readConfig(values.config) : {};
  const task = values.task ?? config.task;
  if (!task || task.trim() === '') {
    throw new UsageError('missing --task: distill needs to know what you will ask about each document', {
      fix: 'add --task "…", for example --task "List every deadline and amount"',
    });
  }
  const stageList = list(values.stages);
  for (const name of stageList ?? []) {
    if (!(localStageNames as readonly string[]).includes(name)) {
      const nearest = nearestName(name, localStageNames);
      throw new UsageError(`unknown stage "${name}" in --stages${nearest ? `; did you mean "${nearest}"?` : ''}`, { fix: `choose from ${localStageNames.join(', ')} (the llm stage always runs last)` });
    }
  }
  if (values.ratio !== undefined && values.budget !== undefined) {
    throw new UsageError('--ratio and --budget contradict each other', { fix: 'keep one of them: --budget caps every document, --ratio keeps a share of each' });
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!(seconds > 0 && Number.isFinite(seconds))) throw new UsageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`, { fix: 'for example --timeout 30' });
    timeoutMs = seconds * 1000;
  }
  if (values['no-cache'] && values.cache) throw new UsageError('--cache and --no-cache contradict each other', { fix: 'keep one of them' });

  // The flags, in the config file's shape.
  const raw: Record<string, string | undefined> = {
    budget: values.budget, 'sections.ratio': values.ratio, concurrency: values.concurrency, threads: values.threads, maxBytes: values['max-bytes'],
    maxTokens: values['max-tokens'], rpm: values.rpm, tpm: values.tpm, maxRetries: values['max-retries'], maxCost: values['max-cost'],
    'alerts.webhook': values['alert-webhook'] === undefined ? undefined : safeUrl(values['alert-webhook']),
  };
  const alertUsd = values['alert-usd']?.map((value) => numberOrRaw(value)!);
  const flags = defined({
    task: values.task,
    budget: numberOrRaw(values.budget),
    model: values.model,
    stages: stageList as LocalStageName[] | undefined,
    out: values.out,
    maxBytes: byteSize('max-bytes', values['max-bytes']),
    concurrency: numberOrRaw(values.concurrency),
    threads: values.threads === undefined || values.threads === 'auto' ? undefined : numberOrRaw(values.threads),
    maxTokens: numberOrRaw(values['max-tokens']),
    rpm: numberOrRaw(values.rpm),
    tpm: numberOrRaw(values.tpm),
    maxRetries: numberOrRaw(values['max-retries']),
    maxCost: numberOrRaw(values['max-cost']),
    cache: values['no-cache'] ? false : values.cache,
    batch: values.batch,
    route: values.route,
    regex: values['disable-rule'] || values.rules ? defined({ disable: values['disable-rule'], rules: list(values.rules) }) : undefined,
    classify: values['classifier-model'] || values['allow-remote-models'] ? defined({ model: values['classifier-model'], allowRemoteModels: values['allow-remote-models'] }) : undefined,
    sections: values.ratio === undefined ? undefined : { ratio: numberOrRaw(values.ratio) },
    tags: values.tag === undefined ? undefined : tagsOf(values.tag),
    spans: values.spans,
    report: values.report,
    alerts: alertUsd || values['alert-webhook'] ? defined({ usd: alertUsd, webhook: values['alert-webhook'] }) : undefined,
  }) as ConfigFile;
  checkOptions(configFileSchema, flags, {
    name: flagOf,
    got: (path, value) => raw[path] ?? (path.startsWith('alerts.usd[') ? values['alert-usd']?.[Number(/\d+/.exec(path)?.[0])] : undefined) ?? formatValue(value),
  });

  const dryRunFlag = values['dry-run'] ?? config.dryRun ?? (typeof config.llm === 'object' ? config.llm.dryRun : undefined) ?? false;
  const hasKey = Boolean(env.OPENAI_API_KEY);
  const dryRun = dryRunFlag || !hasKey;

  // A flag replaces what the config file says of the same option, wherever the file put it.
  const llm = typeof config.llm === 'object' ? { ...config.llm } : config.llm;
  const fromConfig: ConfigFile = { ...config };
  delete fromConfig.out;
  delete fromConfig.report;
  delete fromConfig.alerts;
  for (const name of [...llmShortcuts, 'model', 'dryRun'] as const) {
    if (flags[name] !== undefined || name === 'dryRun') {
      if (typeof llm === 'object') delete llm[name];
      if (flags[name] !== undefined) delete fromConfig[name];
    }
  }
  const concurrency = flags.concurrency ?? config.concurrency;
  // Documents in flight bound the requests in flight too, unless the llm stage is told otherwise.
  const given = typeof llm === 'object' ? llm : {};
  const llmOptions =
    llm === false
      ? false
      : {
          ...(concurrency === undefined ? {} : { concurrency }),
          ...given,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          // The stage would read process.env; `env` is what this run was given (the same in the bin, not in an embedding).
          ...(env.OPENAI_API_KEY && given.apiKey === undefined ? { apiKey: env.OPENAI_API_KEY } : {}),
          ...(env.OPENAI_BASE_URL && given.baseURL === undefined ? { baseURL: env.OPENAI_BASE_URL } : {}),
        };
  const { budget: _budget, sections: _sections, regex: _regex, classify: _classify, stages: _stages, report: _report, alerts: _alerts, ...topFlags } = flags;
  delete topFlags.out;
  delete topFlags.task;
  if (values.budget !== undefined && config.sections?.ratio !== undefined) {
    throw new UsageError('--budget and "sections.ratio" in the config file contradict each other', { fix: 'drop one of them: a budget caps every document, a ratio keeps a share of each' });
  }
  const regex = { ...config.regex, ...flags.regex, ...(flags.regex?.disable ? { disable: [...(config.regex?.disable ?? []), ...flags.regex.disable] } : {}) };
  const classify = { ...config.classify, ...flags.classify };
  const sections = config.sections || flags.sections ? { ...config.sections, ...flags.sections } : undefined;
  const budget = flags.budget ?? config.budget;
  if (flags.sections?.ratio !== undefined && sections) delete sections.budget;
  const options: PipelineOptions = {
    ...fromConfig,
    ...topFlags,
    task,
    dryRun,
    ...(budget === undefined || flags.sections?.ratio !== undefined ? {} : { budget }),
    threads: threadCount(values.threads ?? config.threads),
    ...(flags.stages ? { stages: flags.stages } : {}),
    regex,
    classify,
    ...(sections ? { sections } : {}),
    llm: llmOptions,
  };
  if (flags.sections?.ratio !== undefined) delete options.budget;
  // Tags from the flags join the config file's; the same key on the command line wins.
  if (config.tags || flags.tags) options.tags = { ...config.tags, ...flags.tags };
  const report = values.report ?? config.report;
  // The report's document view is drawn from span provenance, so asking for the report captures it.
  if (report !== undefined) options.spans = true;
  // Thresholds from the flags replace the config file's; a webhook from either is used.
  const alerts = defined({ usd: flags.alerts?.usd ?? config.alerts?.usd, webhook: flags.alerts?.webhook ?? config.alerts?.webhook });
  const dryRunReason = dryRunFlag ? '--dry-run was given' : hasKey ? undefined : 'OPENAI_API_KEY is not set';
  const out = values.out ?? config.out;
  return {
    options,
    ...(dryRunReason ? { dryRunReason } : {}),
    ...(out === undefined ? {} : { out }),
    ...(report === undefined ? {} : { report }),
    ...(alerts.usd === undefined && alerts.webhook === undefined ? {} : { alerts }),
  };
}

/** `--tag key=value`, repeatable: the run's tags. */
function tagsOf(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const value of values) {
    const match = /^([^=]+)=(.*)$/s.exec(value);
    if (!match || match[1]!.trim() === '') throw new UsageError(`--tag must be key=value, got "${value}"`, { fix: 'for example --tag feature=search --tag team=growth' });
    tags[match[1]!.trim()] = match[2]!;
  }
  return tags;
}

function defined<T extends Record<string, unknown>>(object: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/**
 * Where records or figures go: its folder must exist and be writable, and
 * this is checked before any model loads, so a typo costs no wait.
 */
async function checkOutput(out: string | undefined, flag = '--out'): Promise<void> {
  if (out === undefined) return;
  const folder = dirname(resolve(out));
  let info;
  try {
    info = await stat(folder);
  } catch {
    throw new UsageError(`cannot write ${flag} ${out}: the folder ${folder} does not exist`, { fix: `create it first (mkdir -p ${JSON.stringify(folder)}), or choose a path in a folder that exists` });
  }
  if (!info.isDirectory()) throw new UsageError(`cannot write ${flag} ${out}: ${folder} is not a folder`, { fix: 'choose a path in a folder' });
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw new UsageError(`cannot write ${flag} ${out}: the folder ${folder} is not writable`, { fix: 'choose a folder you can write to' });
  }
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`cannot write ${flag} ${out}: it is a folder`, { fix: `give a file name, such as ${join(out, 'records.jsonl')}` });
}

async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    io.stdout.write(`${runHelp}\n`);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError('no input: give files or folders to read, or - for JSONL on stdin', { fix: 'for example: distill run fixtures/docs --task "…"' });
  }
  const fromStdin = positionals.includes('-');
  if (fromStdin && positionals.length > 1) throw new UsageError('"-" (stdin) cannot be mixed with paths');
  for (const path of positionals) {
    if (path === '-') continue;
    try {
      await stat(path);
    } catch {
      throw new UsageError(`no such file or folder: ${path}`, { fix: 'check the path; folders are read recursively' });
    }
  }
  if (values.root !== undefined && !(await stat(values.root).then((found) => found.isDirectory(), () => false))) {
    throw new UsageError(`--root must be a folder, got "${values.root}"`, { fix: 'give the folder that the {"path": …} lines of the JSONL are under' });
  }
  const { options, dryRunReason, out, report, alerts } = await resolveRunOptions(values, io.env);
  await checkOutput(out);
  await checkOutput(report, '--report');
  if (options.budget !== undefined && options.stages && !options.stages.includes('sections')) {
    io.stderr.write('distill: note: --stages leaves out the sections stage, so a document over --budget is cut after the last whole sentence that fits, not by relevance.\n');
  }

  const progress = new ProgressLine(io.stderr);
  const host = io.process ?? process;
  // First Ctrl-C (or SIGTERM): stop taking documents and sending requests, let paid requests on the wire land in the
  // cache, and still write every finished record and the summary. A second one: leave now, but only once the answers
  // already received are in the cache, so none that was paid for is lost.
  const interrupt = new AbortController();
  let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
  let llmStage: LlmStage | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const name = signal === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
    progress.clear();
    if (interrupt.signal.aborted) {
      io.stderr.write('\ndistill: quitting now: writing the answers already received to the cache first; requests still on the wire are abandoned.\n');
      // Bounded, so a stuck disk or Redis cannot keep the process alive after a second signal.
      const flushed = Promise.race([llmStage?.flush(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      void flushed.then(() => host.exit(signalExitCodes[stoppedBy ?? name]));
      return;
    }
    stoppedBy = name;
    interrupt.abort();
    io.stderr.write(`\ndistill: ${name === 'SIGTERM' ? 'terminated' : 'stopping'}: finishing the requests in flight (their answers are cached, so a rerun does not pay twice). ${name === 'SIGTERM' ? 'Send SIGTERM' : 'Ctrl-C'} again to quit now.\n`);
  };
  host.on('SIGINT', onSignal);
  host.on('SIGTERM', onSignal);
  // Loaded here, not at the top: help and usage errors should not wait for the model runtime to load.
  const { createPipeline } = await import('./pipeline.js');
  const pipeline = createPipeline({
    ...options,
    signal: interrupt.signal,
    onStage: (event) => {
      progress.current = `${event.stage} ${event.doc.source}`;
      progress.update();
    },
  });
  llmStage = pipeline.stages.find((stage): stage is LlmStage => stage.name === 'llm');
  if (llmStage) progress.waiting = llmStage.activity.bind(llmStage);
  // A model that cannot load would fail every document with the same message: fail once, up front, instead.
  try {
    await pipeline.ready();
  } catch (error) {
    host.off('SIGINT', onSignal);
    host.off('SIGTERM', onSignal);
    await pipeline.close();
    throw error;
  }
  const summary = new RunSummary();
  summary.prices = options.prices;
  const secrets = [io.env.OPENAI_API_KEY];
  const reportParts = report === undefined ? undefined : await import('./report/index.js');
  const collector = reportParts && new reportParts.ReportCollector({ secrets, ...(options.prices ? { prices: options.prices } : {}) });
  const spend = new SpendWatch(alerts?.usd);
  const alertLines: Promise<string>[] = [];
  const toTerminal = !out && Boolean(io.stdout.isTTY);
  const sink = out ? createWriteStream(out) : io.stdout;
  if (out) await once(sink, 'open');
  if (!fromStdin && progress) countInputs(positionals).then((total) => (progress.total = total), () => {});

  const jsonlOptions = { ...(values.root === undefined ? {} : { root: values.root }), ...(values['allow-any-path'] ? { allowAnyPath: true } : {}) };
  const inputs: AsyncIterable<PipelineInput> = fromStdin ? readJsonlInputs(io.stdin, jsonlOptions) : pathInputs(positionals);
  const terminalRows: string[] = [];
  // Redrawn every second, so a run that waits on the model shows what it waits for.
  progress.start();
  try {
    for await (const record of pipeline.run(inputs)) {
      summary.add(record);
      progress.done++;
      if (record.status === 'ok') progress.ok++;
      else if (record.status === 'error') progress.failed++;
      else progress.skipped++;
      progress.update();
      collector?.add(record);
      for (const alert of spend.add(record)) {
        progress.clear();
        io.stderr.write(`distill: alert: spend ${alert.estimated ? '(estimated) ' : ''}reached ${formatUsd(alert.spentUsd)}, past --alert-usd ${formatUsd(alert.thresholdUsd)}, after ${alert.documents} document${alert.documents === 1 ? '' : 's'}.\n`);
        if (alerts?.webhook) {
          const payload = { event: 'distill.spend-alert' as const, ...alert, model: record.cost.model, at: new Date().toISOString() };
          alertLines.push(postAlert(alerts.webhook, payload));
        }
      }
      if (toTerminal) terminalRows.push(terminalLine(record));
      // The record already has nothing key-shaped outside the document; the key itself goes even from the document.
      else if (!sink.write(`${redactKnown(JSON.stringify(record), [io.env.OPENAI_API_KEY])}\n`)) await once(sink, 'drain');
    }
  } finally {
    host.off('SIGINT', onSignal);
    host.off('SIGTERM', onSignal);
    progress.stop();
    await pipeline.close();
    progress.clear();
    if (out) await new Promise<void>((done, reject) => (sink as NodeJS.WritableStream).end((error?: Error | null) => (error ? reject(error) : done())));
  }

  const redact = (text: string) => redactSecrets(text, secrets);
  // Each line names the webhook by safeUrl only: its query string (the secret of most hooks) is never printed.
  for (const line of await Promise.all(alertLines)) io.stderr.write(`distill: ${line}\n`);
  if (collector && reportParts && report !== undefined) {
    const data = collector.data({ title: values.title ?? `distill run: ${options.task}`, alerts: spend.alerts, ...(llmStage ? { llm: llmStage.summary() } : {}) });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(report, redactKnown(reportParts.renderReport(data), secrets));
  }
  if (toTerminal) {
    io.stdout.write(redact(`${terminalRows.join('\n')}\n`));
    io.stderr.write('(records not written: stdout is a terminal. Use --out records.jsonl, or pipe stdout, for the full JSONL records.)\n\n');
  }
  if (!values.quiet) {
    const llmLines = llmStage ? formatLlmLines(llmStage.summary()) : [];
    io.stderr.write(redact(`${formatSummary(summary, { dryRun: options.dryRun ?? false, llmLines, ...(dryRunReason ? { dryRunReason } : {}) })}\n`));
    if (out) io.stderr.write(`Records: ${out}\n`);
    if (report !== undefined) io.stderr.write(`Report: ${report}\n`);
  }
  if (interrupt.signal.aborted) {
    io.stderr.write(`Interrupted: ${summary.documents} documents have records; the rest were not read. Rerun the same command to continue: answered documents come from the cache.\n`);
    return signalExitCodes[stoppedBy ?? 'SIGINT'];
  }
  return summary.statuses.error > 0 ? 1 : 0;
}

async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    io.stdout.write(`${benchHelp}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('no input: give the files or folders to measure', { fix: 'for example: distill bench fixtures/docs --task "…"' });
  for (const path of positionals) {
    try {
      await stat(path);
    } catch {
      throw new UsageError(`no such file or folder: ${path}`, { fix: 'check the path; folders are read recursively' });
    }
  }
  const { options } = await resolveRunOptions(values, io.env);
  await checkOutput(values.out);
  const { headTruncate, measure } = await import('./measure.js');
  const { formatMeasure } = await import('./report/terminal.js');
  const inputs: PipelineInput[] = [];
  for await (const input of pathInputs(positionals)) inputs.push(input);
  const budget = options.budget;
  const result = await measure(inputs, {
    name: positionals.join(' '),
    task: options.task,
    ...(budget === undefined ? {} : { budget, baselines: { [`head truncation to ${budget}`]: (text: string) => headTruncate(text, budget) } }),
    ...(options.stages ? { stages: options.stages } : {}),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  });
  io.stderr.write(`${formatMeasure(result)}\n`);
  if (values.out) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
    io.stderr.write(`Figures: ${values.out}\n`);
  }
  return result.statuses.error ? 1 : 0;
}

export const reportHelp = `distill report <records.jsonl...> [--out report.html] [--title text] [--alert-usd N]

Makes one self-contained HTML page from the records of one or more runs
(- reads them from stdin): the stage funnel, the dollars with and without
distillation, model calls, the savings per rule and label, cost per tag,
and a sortable, filterable table of every document. It opens from disk,
offline. A document's view (what was cut, and by which rule) needs the
spans that "distill run --report" or "--spans" store in its record.

Options:
  --out <file.html>      where to write the page (default: report.html)
  --title <text>         the page's title (default: distill report)
  --alert-usd <usd>      show where the records' spend crossed this
                         (repeatable)

Example:
  distill run mail/ --task "List every deadline" --spans --out records.jsonl
  distill report records.jsonl --out mail.html --title "Mail, May"`;

const reportFlags = {
  out: { type: 'string' },
  title: { type: 'string' },
  'alert-usd': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

async function reportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, reportFlags, 'report');
  if (values.help) {
    io.stdout.write(`${reportHelp}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('no records: give the JSONL files that "distill run --out" wrote, or - for stdin', { fix: 'for example: distill report records.jsonl --out report.html' });
  for (const path of positionals) {
    if (path !== '-' && !(await stat(path).then((found) => found.isFile(), () => false))) throw new UsageError(`no such file: ${path}`, { fix: 'give the JSONL files of records that "distill run --out" wrote' });
  }
  const alertUsd = values['alert-usd']?.map(Number);
  checkOptions(configFileSchema, alertUsd ? { alerts: { usd: alertUsd } } : {}, { name: flagOf, got: (path) => values['alert-usd']?.[Number(/\d+/.exec(path)?.[0])] ?? '' });
  const out = values.out ?? 'report.html';
  await checkOutput(out);
  const { ReportCollector, renderReport } = await import('./report/index.js');
  const secrets = [io.env.OPENAI_API_KEY];
  const collector = new ReportCollector({ secrets });
  const spend = new SpendWatch(alertUsd);
  let skipped = 0;
  let records = 0;
  for (const path of positionals) {
    const lines = createInterface({ input: path === '-' ? io.stdin : createReadStream(path), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const record = parseRecord(line);
      if (!record) {
        skipped++;
        continue;
      }
      collector.add(record);
      spend.add(record);
      records++;
    }
  }
  if (records === 0) throw new UsageError('no records found in the input', { fix: 'give the JSONL files that "distill run --out" wrote' });
  const { writeFile } = await import('node:fs/promises');
  const data = collector.data({ alerts: spend.alerts, ...(values.title === undefined ? {} : { title: values.title }) });
  await writeFile(out, redactKnown(renderReport(data), secrets));
  if (skipped > 0) io.stderr.write(`distill: ${skipped} lines were not records and were left out.\n`);
  io.stderr.write(`Report: ${out} (${formatInt(data.documents)} documents)\n`);
  return 0;
}

/** A JSONL line as a record, or undefined when it is not one (another tool's line, a truncated write). */
function parseRecord(line: string): DistillRecord | undefined {
  try {
    const value = JSON.parse(line) as Partial<DistillRecord>;
    return typeof value === 'object' && value !== null && typeof value.source === 'string' && typeof value.status === 'string' && value.tokens && value.cost && Array.isArray(value.stages) ? (value as DistillRecord) : undefined;
  } catch {
    return undefined;
  }
}

function terminalLine(record: DistillRecord): string {
  const reduction = record.status === 'ok' ? ` ${formatInt(record.tokens.original)} → ${formatInt(record.tokens.distilled)} tokens (${percent(record.tokens.original - record.tokens.distilled, record.tokens.original)} removed), ${formatUsd(record.cost.distilledUsd)}` : '';
  const reason = record.error ? `: ${record.error}` : '';
  return `${record.status.padEnd(7)} ${record.source}${reduction}${reason}`;
}

/** Every entry under the paths: files to load, and the records of entries with nothing to load (a dangling link). */
/**
 * Every entry under the paths: files to load, and the records of entries with nothing to load (a dangling link).
 * A file in a subfolder of a folder given gets that subfolder's name as its `folder` tag (mail/billing/1.eml under
 * mail/ is `folder: billing`), so the report can group costs by folder.
 */
async function* pathInputs(paths: string[]): AsyncGenerator<PipelineInput> {
  for (const root of paths) {
    for await (const entry of walkInputs(root)) {
      const path = entry instanceof DistillDocument ? entry.source : readablePath(entry.path);
      const [folder, ...rest] = relative(root, path).split(sep);
      if (rest.length === 0 || folder === undefined || folder === '..' || folder === '') yield entry;
      else if (entry instanceof DistillDocument) {
        entry.tags.folder ??= folder;
        yield entry;
      } else yield { ...entry, tags: { folder, ...entry.tags } };
    }
  }
}

async function countInputs(paths: string[]): Promise<number> {
  let total = 0;
  for (const root of paths) for await (const _ of walkInputs(root)) total++;
  return total;
}

export interface JsonlOptions {
  /** `{path}` lines may name only files under this folder (after symlinks); relative paths are taken from it. @default the current folder */
  root?: string;
  /** Let `{path}` lines name any file (`--allow-any-path`). @default false */
  allowAnyPath?: boolean;
}

/**
 * Stdin JSONL: one `{id, text}` or `{id, path}` per line. A bad line becomes
 * an error record named after its line number, so no input is lost silently.
 * JSONL may come from an untrusted export, so a `{path}` line outside the
 * root is refused with an error record, unread.
 */
export async function* readJsonlInputs(stream: NodeJS.ReadableStream, options: JsonlOptions = {}): AsyncGenerator<PipelineInput> {
  const root = resolve(options.root ?? '.');
  let realRoot: Promise<string> | undefined;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    const source = `stdin:${number}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      yield invalidLine(source, `line ${number} is not valid JSON: ${(error as Error).message}`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield invalidLine(source, `line ${number} must be a JSON object like {"id": "a", "text": "…"}`);
      continue;
    }
    const item = value as Record<string, unknown>;
    const id = typeof item.id === 'string' || typeof item.id === 'number' ? String(item.id) : source;
    const tags = item.tags === undefined ? undefined : lineTags(item.tags);
    if (tags === null) {
      yield invalidLine(id, `line ${number}: "tags" must be an object of strings, like {"feature": "search"}`);
      continue;
    }
    if (typeof item.path === 'string') {
      const path = isAbsolute(item.path) || options.root === undefined ? item.path : join(options.root, item.path);
      if (!options.allowAnyPath && !(await isUnder(resolve(root, item.path), root, (realRoot ??= realpath(root))))) {
        const doc = new DistillDocument({ id, source: item.path, text: '' });
        doc.fail(`line ${number}: ${JSON.stringify(item.path)} is outside --root ${options.root ?? '(the current folder)'}: not read`, 'load:jsonl-path', {
          code: 'E_PATH_OUTSIDE_ROOT',
          fix: 'pass --root <folder> for the folder the files are in, or --allow-any-path if you trust this JSONL',
        });
        yield doc;
        continue;
      }
      yield { path, id, ...(tags ? { tags } : {}) };
    }
    else if (typeof item.text === 'string') {
      yield {
        id,
        text: item.text,
        ...(typeof item.format === 'string' ? { format: item.format as never } : {}),
        ...(typeof item.metadata === 'object' && item.metadata !== null ? { metadata: item.metadata as Record<string, unknown> } : {}),
        ...(tags ? { tags } : {}),
      };
    } else yield invalidLine(id, `line ${number} has neither "text" nor "path"`);
  }
}

/** A JSONL line's `tags`, or null when they are not an object of strings. */
function lineTags(value: unknown): Record<string, string> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value);
  return entries.every(([key, tag]) => key !== '' && typeof tag === 'string') ? (Object.fromEntries(entries) as Record<string, string>) : null;
}

/** True when `path`, symlinks resolved, is `root` or inside it. A path that does not exist is judged as written (the loader then says it is missing). */
async function isUnder(path: string, root: string, realRoot: Promise<string>): Promise<boolean> {
  const real = await realpath(path).catch(() => undefined);
  const relation = real === undefined ? relative(root, path) : relative(await realRoot, real);
  return relation === '' || (relation !== '..' && !relation.startsWith(`..${sep}`) && !isAbsolute(relation));
}

function invalidLine(source: string, reason: string): DistillDocument {
  const doc = new DistillDocument({ id: source, source, text: '' });
  doc.fail(reason, 'load:jsonl', { fix: 'give one JSON object per line: {"id": "a", "text": "…"} or {"id": "b", "path": "file.pdf"}' });
  return doc;
}
