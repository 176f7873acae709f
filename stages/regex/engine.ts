import type { DocumentFormat } from '../../src/document.js';

/**
 * The rule engine of the regex stage. A rule is a pure function from text to
 * text that also says how many things it removed. Rules are small and
 * bounded: they work line by line or block by block with length caps, and
 * every regex is anchored (a lookbehind or `^`) so that a failed match never
 * rescans the same run, which keeps each rule linear in the input.
 */

export const ruleFamilies = ['layout', 'furniture', 'email', 'web', 'noise', 'user'] as const;

export type RuleFamily = (typeof ruleFamilies)[number];

/** What a rule may know about the document besides its text. */
export interface RuleEnvironment {
  format: DocumentFormat;
  /** True for loaded emails (and text that starts with an RFC 822 header block). */
  email: boolean;
  /** True when pages are separated by form feeds (PDF text). */
  paged: boolean;
}

export interface RuleResult {
  text: string;
  /** How many things the rule removed or rewrote; 0 means the text is unchanged. */
  hits: number;
}

export interface RegexRule {
  /** `regex:<family>-<name>`, the name users give to turn it off. */
  readonly name: string;
  readonly family: RuleFamily;
  /** One line for `--help` and the docs. */
  readonly description: string;
  /**
   * A cheap necessary condition: when it does not match the text, the rule
   * cannot change it and is skipped (most documents have no cookie banner).
   */
  readonly hint?: RegExp;
  /**
   * What the rule's matches may be (`quoted`, `signature`, `legal`, `footer`,
   * `navigation`): text that is sometimes the evidence a task needs. Such a
   * rule does not delete; it labels the spans it would have removed, and the
   * sections stage weighs that prior against the task (the `remove` option
   * of the stage deletes them as before). A rule without a label matches
   * only what is never evidence, and deletes it.
   */
  readonly label?: string;
  /** Whether the rule runs on this document at all (email rules only on emails). */
  appliesTo?(environment: RuleEnvironment): boolean;
  apply(text: string, environment: RuleEnvironment): RuleResult;
}

export const unchanged = (text: string): RuleResult => ({ text, hits: 0 });

/** Lines longer than this are never furniture, headers or banners; skipping them bounds every line rule. */
export const maxFurnitureLine = 400;

/**
 * Replace every match of a global regex, counting matches. The regex must be
 * built so that a failed attempt cannot rescan (see the module comment).
 */
export function replaceCounting(
  text: string,
  pattern: RegExp,
  replacement: string | ((match: string, ...groups: string[]) => string),
): RuleResult {
  let hits = 0;
  const out = text.replace(pattern, (...args: unknown[]) => {
    const match = args[0] as string;
    const result = typeof replacement === 'string' ? replacement : replacement(match, ...(args.slice(1) as string[]));
    if (result !== match) hits++;
    return result;
  });
  return hits === 0 ? unchanged(text) : { text: out, hits };
}

/**
 * The lines of a text, with each form feed on a line of its own: the PDF
 * loader joins pages with a bare "\f", and the last line of one page must
 * not read as the start of the next page's first line.
 */
export function linesOf(text: string): string[] {
  return (text.includes('\f') ? text.replace(/\f/g, '\n\f\n') : text).split('\n');
}

/** The inverse of `linesOf`. */
export function joinLines(lines: readonly string[]): string {
  const text = lines.join('\n');
  return text.includes('\f') ? text.replace(/\n?\f\n?/g, '\f') : text;
}

/**
 * Drop the lines for which `remove` says true. A removed line takes its line
 * break with it. `remove` sees the line without its break.
 */
export function removeLines(text: string, remove: (line: string, index: number, lines: readonly string[]) => boolean): RuleResult {
  const lines = linesOf(text);
  const kept: string[] = [];
  let hits = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (remove(line, index, lines)) hits++;
    else kept.push(line);
  }
  return hits === 0 ? unchanged(text) : { text: joinLines(kept), hits };
}

/**
 * Drop ranges of lines. `find` walks the lines and returns the ranges
 * `[start, end)` to remove; ranges must not overlap and must be sorted.
 */
export function removeLineRanges(text: string, find: (lines: readonly string[]) => Array<[number, number]>): RuleResult {
  const lines = linesOf(text);
  const ranges = find(lines);
  if (ranges.length === 0) return unchanged(text);
  const kept: string[] = [];
  let cursor = 0;
  for (const [start, end] of ranges) {
    for (let index = cursor; index < start; index++) kept.push(lines[index]!);
    cursor = Math.max(cursor, end);
  }
  for (let index = cursor; index < lines.length; index++) kept.push(lines[index]!);
  return { text: joinLines(kept), hits: ranges.length };
}

/** A paragraph: lines between blank lines, with its line range. */
export interface Block {
  start: number;
  end: number;
  lines: readonly string[];
}

const blankLine = /^[ \t\r\u00a0]*$/;

export function isBlank(line: string): boolean {
  return blankLine.test(line);
}

/** Paragraphs of a list of lines (blank lines and form feeds separate them). */
export function blocksOf(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let start = -1;
  for (let index = 0; index <= lines.length; index++) {
    const line = lines[index];
    const separator = line === undefined || isBlank(line) || line.includes('\f');
    if (!separator && start < 0) start = index;
    if (separator && start >= 0) {
      blocks.push({ start, end: index, lines: lines.slice(start, index) });
      start = -1;
    }
  }
  return blocks;
}

/** Drop whole paragraphs that `remove` picks. */
export function removeBlocks(text: string, remove: (block: Block, all: readonly Block[], lines: readonly string[]) => boolean): RuleResult {
  return removeLineRanges(text, (lines) => {
    const all = blocksOf(lines);
    const ranges: Array<[number, number]> = [];
    for (const block of all) if (remove(block, all, lines)) ranges.push([block.start, block.end]);
    return ranges;
  });
}

/**
 * An email as loaded is a header block, a blank line, then the body. Body
 * rules must never touch the headers (and header rules never the body).
 */
export function splitEmail(text: string): { head: string; body: string } {
  const end = text.indexOf('\n\n');
  if (end < 0) return { head: text, body: '' };
  return { head: text.slice(0, end + 1), body: text.slice(end + 1) };
}

/** Run a rule on the body of an email only. */
export function onEmailBody(text: string, apply: (body: string) => RuleResult): RuleResult {
  const { head, body } = splitEmail(text);
  if (body.length === 0) return unchanged(text);
  const result = apply(body);
  return result.hits === 0 ? unchanged(text) : { text: head + result.text, hits: result.hits };
}

const headerLine = /^[\x21-\x39\x3b-\x7e]{1,76}:[ \t]/;
const knownHeader = /^(?:Return-Path|Received|From|To|Cc|Subject|Date|Message-ID|Delivered-To|MIME-Version|Content-Type|Reply-To|X-[\w-]{1,60}):[ \t]/i;

/** Text that starts with an RFC 822 header block (at least two known headers before the first blank line). */
export function looksLikeEmail(text: string): boolean {
  const head = text.slice(0, 8192).split('\n', 60);
  let known = 0;
  for (const line of head) {
    if (line === '' || line === '\r') break;
    if (/^[ \t]/.test(line)) continue;
    if (!headerLine.test(line) && !line.startsWith('From ')) return false;
    if (knownHeader.test(line)) known++;
  }
  return known >= 2;
}

export function environmentOf(text: string, format: DocumentFormat): RuleEnvironment {
  return {
    format,
    email: format === 'email' || ((format === 'text' || format === 'markdown') && looksLikeEmail(text)),
    paged: text.includes('\f'),
  };
}

/**
 * The character spans of `before` that a line-removing rule took out to
 * give `after`: the lines of `after` are matched in order against those of
 * `before`, and every line left over was removed. `undefined` when `after`
 * is not `before` with whole lines removed (the rule rewrote a line).
 */
export function removedSpans(before: string, after: string): Array<[number, number]> | undefined {
  const lines = before.split('\n');
  const kept = after.split('\n');
  const spans: Array<[number, number]> = [];
  let offset = 0;
  let next = 0;
  for (const line of lines) {
    const end = offset + line.length;
    if (next < kept.length && kept[next] === line) next++;
    else {
      const last = spans.at(-1);
      // A removed line takes its line break; runs of removed lines make one span.
      if (last && last[1] === offset) last[1] = end + 1;
      else spans.push([offset, end + 1]);
    }
    offset = end + 1;
  }
  if (next < kept.length) return undefined;
  return spans.map(([start, end]) => [start, Math.min(end, before.length)]);
}
