import { createWriteStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readConfig, type ConfigFile } from './config.js';
import { DistillDocument } from './document.js';
import { DistillError, UsageError } from './errors.js';
import { defaultThreads } from './local-threads.js';
import { walkInputs } from './loaders/walk.js';
import type { LocalStageName, PipelineInput, PipelineOptions } from './pipeline.js';
import { formatUsd } from './pricing.js';
import { redactKnown, redactSecrets } from './redact.js';
import { version } from './package-root.js';
import { ProgressLine } from './progress.js';
import { formatLlmLines, formatSummary, percent, formatInt } from './report.js';
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
                         exactly in o200k_base, never exceeded. Without it
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
                         auto). Near duplicates are then looked for among
                         each thread's documents; 1 runs in one thread
  --root <folder>        with "-": a {"path": …} line may only name a file
                         under this folder (default: the current folder);
                         other lines get an error record, unread
  --allow-any-path       with "-": let {"path": …} lines name any file (only
                         for JSONL you trust)
  --config <file.json>   options from a JSON file; flags override it
  --disable-rule <name>  turn off a regex rule or family (repeatable), for
                         example --disable-rule regex:web-share-links
  --rules <list>         run only these regex rules or families
  --classifier-model <m> a local model folder or a Hugging Face hub id
                         (default: the model shipped in models/)
  --allow-remote-models  let a hub id download (needs network)
  --quiet                no summary on stderr

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
  printf '{"id":"a","text":"…"}\\n' | distill run - --task "Summarise" --dry-run`;

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
      io.stderr.write(`${mainHelp}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '-v' || command === '--version') {
      io.stdout.write(`${version}\n`);
      return 0;
    }
    if (command === 'run') return await runCommand(rest, io);
    if (command === 'bench') return await benchCommand(rest, io);
    if (command === 'rules') {
      const { ruleCatalogue } = await import('../stages/regex/catalogue.js');
      const { formatTable } = await import('./report.js');
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
  if (error instanceof UsageError || (error instanceof TypeError && /^Expected `/.test(error.message))) {
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
  try {
    return parseArgs({ args: argv, options: runFlags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify .*$/s, ''), { fix: 'run "distill run --help" for the options' });
  }
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`--${name} must be a positive whole number, got "${value}"`);
  return number;
}

const sizeUnits: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9 };

/** A size in bytes: `50000000`, `50MB`, `1.5 GB` (decimal units, as the records print them). */
function byteSize(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? sizeUnits[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isInteger(bytes) || bytes < 1) throw new UsageError(`--${name} must be a size in bytes, like 50000000 or 50MB, got "${value}"`);
  return bytes;
}

function threadCount(value: string | number | undefined): number {
  if (value === undefined || value === 'auto') return defaultThreads();
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`--threads must be a positive whole number or "auto", got "${value}"`);
  return number;
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((item) => item.trim()).filter(Boolean);
}

/** Merge the config file and the flags into pipeline options; flags win. */
export async function resolveRunOptions(values: ReturnType<typeof parse>['values'], env: NodeJS.ProcessEnv): Promise<{ options: PipelineOptions; dryRunReason?: string }> {
  const config: ConfigFile = values.config ? await readConfig(values.config) : {};
  const task = values.task ?? config.task;
  if (!task || task.trim() === '') {
    throw new UsageError('missing --task: distill needs to know what you will ask about each document', {
      fix: 'add --task "…", for example --task "List every deadline and amount"',
    });
  }
  const stages = list(values.stages) ?? config.stages;
  for (const name of stages ?? []) {
    if (!(localStageNames as readonly string[]).includes(name)) {
      throw new UsageError(`unknown stage "${name}" in --stages`, { fix: `choose from ${localStageNames.join(', ')} (the llm stage always runs last)` });
    }
  }
  const regex = { ...config.regex } as Record<string, unknown>;
  if (values['disable-rule']) regex.disable = [...((regex.disable as string[] | undefined) ?? []), ...values['disable-rule']];
  if (values.rules) regex.rules = list(values.rules);
  const classify = { ...config.classify } as Record<string, unknown>;
  if (values['classifier-model']) classify.model = values['classifier-model'];
  if (values['allow-remote-models']) classify.allowRemoteModels = true;

  const dryRunFlag = values['dry-run'] ?? config.dryRun ?? false;
  const hasKey = Boolean(env.OPENAI_API_KEY);
  const dryRun = dryRunFlag || !hasKey;
  const budget = positiveInt('budget', values.budget) ?? config.budget;
  const sectionsOptions = { ...config.sections } as Record<string, unknown>;
  if (values.ratio !== undefined) {
    const ratio = Number(values.ratio);
    if (!(ratio > 0 && ratio <= 1)) throw new UsageError(`--ratio must be a share of the document above 0 and at most 1, got "${values.ratio}"`, { fix: 'for example --ratio 0.2 keeps a fifth' });
    if (budget !== undefined) throw new UsageError('--ratio and --budget contradict each other', { fix: 'keep one of them: --budget caps every document, --ratio keeps a share of each' });
    sectionsOptions.ratio = ratio;
  }
  const concurrency = positiveInt('concurrency', values.concurrency) ?? config.concurrency;
  const threads = threadCount(values.threads ?? config.threads);
  const maxBytes = byteSize('max-bytes', values['max-bytes']) ?? config.maxBytes;
  const model = values.model ?? config.model;
  const llm = { ...config.llm } as Record<string, unknown>;
  const maxTokens = positiveInt('max-tokens', values['max-tokens']);
  if (maxTokens !== undefined) llm.maxTokens = maxTokens;
  const rpm = positiveInt('rpm', values.rpm);
  if (rpm !== undefined) llm.rpm = rpm;
  const tpm = positiveInt('tpm', values.tpm);
  if (tpm !== undefined) llm.tpm = tpm;
  if (values['max-retries'] !== undefined) {
    const retries = Number(values['max-retries']);
    if (!Number.isInteger(retries) || retries < 0) throw new UsageError(`--max-retries must be a whole number, 0 or more, got "${values['max-retries']}"`);
    llm.maxRetries = retries;
  }
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!(seconds > 0 && Number.isFinite(seconds))) throw new UsageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`, { fix: 'for example --timeout 30' });
    llm.timeoutMs = seconds * 1000;
  }
  if (values['no-cache'] && values.cache) throw new UsageError('--cache and --no-cache contradict each other', { fix: 'keep one of them' });
  if (values['no-cache']) llm.cache = false;
  else if (values.cache) llm.cache = values.cache;
  if (values['max-cost'] !== undefined) {
    const maxCost = Number(values['max-cost']);
    if (!(maxCost > 0)) throw new UsageError(`--max-cost must be a positive number of US dollars, got "${values['max-cost']}"`);
    llm.maxCost = maxCost;
  }
  if (values.batch) llm.batch = true;
  if (values.route) llm.route = true;
  if (concurrency !== undefined && llm.concurrency === undefined) llm.concurrency = concurrency;
  // The stage would read process.env; `env` is what this run was given (the same in the bin, not in an embedding).
  if (env.OPENAI_API_KEY && llm.apiKey === undefined) llm.apiKey = env.OPENAI_API_KEY;
  if (env.OPENAI_BASE_URL && llm.baseURL === undefined) llm.baseURL = env.OPENAI_BASE_URL;
  const options: PipelineOptions = {
    task,
    dryRun,
    ...(budget === undefined ? {} : { budget }),
    ...(concurrency === undefined ? {} : { concurrency }),
    threads,
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(model === undefined ? {} : { model }),
    ...(stages ? { stages: stages as LocalStageName[] } : {}),
    ...(config.prices ? { prices: config.prices } : {}),
    regex: regex as PipelineOptions['regex'] & object,
    classify: classify as PipelineOptions['classify'] & object,
    ...(config.entities ? { entities: config.entities } : {}),
    ...(config.sections || values.ratio !== undefined ? { sections: sectionsOptions as PipelineOptions['sections'] & object } : {}),
    llmOptions: llm as PipelineOptions['llmOptions'] & object,
  };
  const dryRunReason = dryRunFlag ? '--dry-run was given' : hasKey ? undefined : 'OPENAI_API_KEY is not set';
  return dryRunReason ? { options, dryRunReason } : { options };
}

async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    io.stderr.write(`${runHelp}\n`);
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
  const { options, dryRunReason } = await resolveRunOptions(values, io.env);
  if (options.budget !== undefined && options.stages && !options.stages.includes('sections')) {
    io.stderr.write('distill: note: --budget is enforced by the sections stage, which --stages leaves out; documents may exceed it.\n');
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
  const toTerminal = !values.out && Boolean(io.stdout.isTTY);
  const sink = values.out ? createWriteStream(values.out) : io.stdout;
  if (values.out) await once(sink, 'open');
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
    if (values.out) await new Promise<void>((resolve, reject) => (sink as NodeJS.WritableStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
  }

  const redact = (text: string) => redactSecrets(text, [io.env.OPENAI_API_KEY]);
  if (toTerminal) {
    io.stdout.write(redact(`${terminalRows.join('\n')}\n`));
    io.stderr.write('(records not written: stdout is a terminal. Use --out records.jsonl, or pipe stdout, for the full JSONL records.)\n\n');
  }
  if (!values.quiet) {
    const llmLines = llmStage ? formatLlmLines(llmStage.summary()) : [];
    io.stderr.write(redact(`${formatSummary(summary, { dryRun: options.dryRun ?? false, llmLines, ...(dryRunReason ? { dryRunReason } : {}) })}\n`));
    if (values.out) io.stderr.write(`Records: ${values.out}\n`);
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
    io.stderr.write(`${benchHelp}\n`);
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
  const { headTruncate, measure } = await import('./measure.js');
  const { formatMeasure } = await import('./report.js');
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

function terminalLine(record: DistillRecord): string {
  const reduction = record.status === 'ok' ? ` ${formatInt(record.tokens.original)} → ${formatInt(record.tokens.distilled)} tokens (${percent(record.tokens.original - record.tokens.distilled, record.tokens.original)} removed), ${formatUsd(record.cost.distilledUsd)}` : '';
  const reason = record.error ? `: ${record.error}` : '';
  return `${record.status.padEnd(7)} ${record.source}${reduction}${reason}`;
}

/** Every entry under the paths: files to load, and the records of entries with nothing to load (a dangling link). */
async function* pathInputs(paths: string[]): AsyncGenerator<PipelineInput> {
  for (const root of paths) yield* walkInputs(root);
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
      yield { path, id };
    }
    else if (typeof item.text === 'string') {
      yield {
        id,
        text: item.text,
        ...(typeof item.format === 'string' ? { format: item.format as never } : {}),
        ...(typeof item.metadata === 'object' && item.metadata !== null ? { metadata: item.metadata as Record<string, unknown> } : {}),
      };
    } else yield invalidLine(id, `line ${number} has neither "text" nor "path"`);
  }
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
