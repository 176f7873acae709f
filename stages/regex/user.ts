import { invalidOption } from '../../src/errors.js';
import { blocksOf, unchanged, type RegexRule, type RuleResult } from './engine.js';

/** A rule from config: a pattern, what to put instead, and where it applies. */
export interface UserRule {
  /** Turned into `regex:user-<name>`; letters, digits and dashes. */
  name: string;
  /** A JavaScript regular expression source. */
  pattern: string;
  /** Flags among `imsu` (`g` is implied). @default '' */
  flags?: string;
  /** What replaces each match (`$1` works). @default '' (the match is removed) */
  replace?: string;
  /**
   * `line`: the pattern runs on each line and a line left blank is dropped;
   * `block`: on each paragraph and a paragraph left blank is dropped;
   * `document`: on the whole text.
   * @default 'line'
   */
  scope?: 'line' | 'block' | 'document';
  /** One line for the rule list. */
  description?: string;
}

/** A document-level filter: a document that matches an `exclude` (or no `include`) is skipped. */
export interface DocumentFilter {
  name: string;
  pattern: string;
  /** Flags among `imsu`. @default '' */
  flags?: string;
}

const ruleName = /^[a-z0-9][a-z0-9-]{0,62}$/i;
const allowedFlags = /^[imsu]*$/;
const scopes = ['line', 'block', 'document'] as const;

function compile(option: string, pattern: unknown, flags: unknown, name: string): RegExp {
  if (typeof pattern !== 'string' || pattern.length === 0) throw invalidOption(`${option}.pattern`, 'a non-empty regular expression string', pattern);
  if (flags !== undefined && (typeof flags !== 'string' || !allowedFlags.test(flags) || new Set(flags).size !== flags.length)) {
    throw invalidOption(`${option}.flags`, 'a string of distinct flags among `imsu`', flags);
  }
  try {
    return new RegExp(pattern, `${flags ?? ''}g`);
  } catch (error) {
    throw new TypeError(`Expected \`${option}.pattern\` of rule \`${name}\` to be a valid regular expression, got \`${pattern}\`: ${(error as Error).message}`);
  }
}

function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !ruleName.test(value)) throw invalidOption(`${option}.name`, 'a rule name of letters, digits and dashes', value);
  return value;
}

export function compileUserRule(value: unknown, index: number): RegexRule {
  const option = `userRules[${index}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption(option, 'an object `{name, pattern, flags, replace, scope}`', value);
  const rule = value as Record<string, unknown>;
  const name = checkName(option, rule.name);
  const pattern = compile(option, rule.pattern, rule.flags, name);
  if (rule.replace !== undefined && typeof rule.replace !== 'string') throw invalidOption(`${option}.replace`, 'a string', rule.replace);
  if (rule.scope !== undefined && !(scopes as readonly unknown[]).includes(rule.scope)) throw invalidOption(`${option}.scope`, "one of 'line', 'block', 'document'", rule.scope);
  if (rule.description !== undefined && typeof rule.description !== 'string') throw invalidOption(`${option}.description`, 'a string', rule.description);
  const replace = (rule.replace as string | undefined) ?? '';
  const scope = (rule.scope as UserRule['scope']) ?? 'line';
  const fullName = name.startsWith('user-') ? `regex:${name}` : `regex:user-${name}`;
  return {
    name: fullName,
    family: 'user',
    description: (rule.description as string | undefined) ?? `user rule /${rule.pattern as string}/ (${scope})`,
    apply: (text) => applyUserRule(text, pattern, replace, scope),
  };
}

function replaceIn(text: string, pattern: RegExp, replace: string): { text: string; hits: number } {
  let hits = 0;
  pattern.lastIndex = 0;
  const out = text.replace(pattern, (...args: unknown[]) => {
    hits++;
    return expandReplacement(replace, args);
  });
  return { text: out, hits };
}

/** `$$`, `$&`, `$1`..`$99` and `$<name>`, as String.prototype.replace reads them. */
function expandReplacement(replace: string, args: unknown[]): string {
  if (!replace.includes('$')) return replace;
  const match = args[0] as string;
  const last = args.at(-1);
  const named = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : undefined;
  const groupCount = args.length - (named ? 4 : 3);
  return replace.replace(/\$(\$|&|\d{1,2}|<[^>]{1,64}>)/g, (token, key: string) => {
    if (key === '$') return '$';
    if (key === '&') return match;
    if (key.startsWith('<')) return named?.[key.slice(1, -1)] ?? '';
    const group = Number(key);
    return group >= 1 && group <= groupCount ? ((args[group] as string | undefined) ?? '') : token;
  });
}

function applyUserRule(text: string, pattern: RegExp, replace: string, scope: NonNullable<UserRule['scope']>): RuleResult {
  if (scope === 'document') {
    const result = replaceIn(text, pattern, replace);
    return result.hits === 0 ? unchanged(text) : result;
  }
  const lines = text.split('\n');
  if (scope === 'line') {
    let hits = 0;
    const out: string[] = [];
    for (const line of lines) {
      const result = replaceIn(line, pattern, replace);
      hits += result.hits;
      // A line the rule emptied goes with its break, so removals leave no holes.
      if (result.hits > 0 && result.text.trim().length === 0) continue;
      out.push(result.hits > 0 ? result.text : line);
    }
    return hits === 0 ? unchanged(text) : { text: out.join('\n'), hits };
  }
  let hits = 0;
  const out: string[] = [];
  let cursor = 0;
  for (const block of blocksOf(lines)) {
    out.push(...lines.slice(cursor, block.start));
    const result = replaceIn(block.lines.join('\n'), pattern, replace);
    hits += result.hits;
    if (!(result.hits > 0 && result.text.trim().length === 0)) out.push(...(result.hits > 0 ? result.text.split('\n') : block.lines));
    cursor = block.end;
  }
  out.push(...lines.slice(cursor));
  return hits === 0 ? unchanged(text) : { text: out.join('\n'), hits };
}

export interface CompiledFilter {
  name: string;
  kind: 'include' | 'exclude';
  pattern: RegExp;
}

export function compileFilters(kind: 'include' | 'exclude', value: unknown): CompiledFilter[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidOption(kind, 'an array of `{name, pattern, flags}`', value);
  return value.map((entry: unknown, index) => {
    const option = `${kind}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalidOption(option, 'an object `{name, pattern, flags}`', entry);
    const filter = entry as Record<string, unknown>;
    const name = checkName(option, filter.name);
    const pattern = compile(option, filter.pattern, filter.flags, name);
    // A filter only asks "is there a match", so it needs no global state.
    return { name, kind, pattern: new RegExp(pattern.source, pattern.flags.replace('g', '')) };
  });
}
