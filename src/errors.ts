/**
 * One error class per condition, each with a stable `code` and a `cause`
 * (after vitest's node/errors.ts), so callers can branch on `code` and the
 * CLI can print a fix.
 */
export class DistillError extends Error {
  readonly code: string;
  readonly fix: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; fix?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fix = options.fix;
  }
}

/** A document that cannot be read or parsed. */
export class LoadError extends DistillError {
  constructor(message: string, options: { cause?: unknown; fix?: string; code?: string } = {}) {
    super(options.code ?? 'E_LOAD', message, options);
  }
}

/** The classifier model could not be found or loaded. */
export class ModelLoadError extends DistillError {
  constructor(message: string, options: { cause?: unknown; fix?: string } = {}) {
    super('E_MODEL_LOAD', message, options);
  }
}

/** A request to the chat API failed for good (after any retries). */
export class ApiError extends DistillError {
  readonly status: number | undefined;
  constructor(message: string, options: { cause?: unknown; fix?: string; status?: number; code?: string } = {}) {
    super(options.code ?? 'E_API', message, options);
    this.status = options.status;
  }
}

/** A bad command line or config: exit code 2. */
export class UsageError extends DistillError {
  constructor(message: string, options: { fix?: string } = {}) {
    super('E_USAGE', message, options);
  }
}

/** An unknown throw from a stage, wrapped at the runner boundary with its stack kept as `cause`. */
export class StageError extends DistillError {
  constructor(stage: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('E_STAGE', `stage ${stage} failed: ${detail}`, { cause });
  }
}

/**
 * A bad option, thrown at construction (a `TypeError`, as p-queue throws):
 * `E_OPTION_INVALID` for a bad value, `E_OPTION_UNKNOWN` for a key that no
 * option has. `option` is its path, such as `sections.budget`.
 */
export class OptionError extends TypeError {
  readonly code: 'E_OPTION_INVALID' | 'E_OPTION_UNKNOWN';
  readonly option: string;
  readonly value: unknown;

  constructor(code: OptionError['code'], message: string, details: { option: string; value: unknown }) {
    super(message);
    this.name = 'OptionError';
    this.code = code;
    this.option = details.option;
    this.value = details.value;
  }
}

/** Options validation in the p-queue style: name the option and the bad value. */
export function invalidOption(name: string, expected: string, value: unknown): OptionError {
  return new OptionError('E_OPTION_INVALID', `Expected \`${name}\` to be ${expected}, got \`${formatValue(value)}\` (${typeof value}).`, { option: name, value });
}

function formatValue(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
