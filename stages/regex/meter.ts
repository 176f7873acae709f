import type { Tokenizer } from '../../src/tokens.js';

/**
 * Exact o200k token counts of a text that changes a little at a time.
 *
 * o200k_base first cuts text into pieces with its pre-tokenizer regex and
 * then runs BPE inside each piece, so the count of a text is the sum of the
 * counts of any split that falls on piece boundaries. Two kinds of position
 * are always piece boundaries under that regex:
 *  - right after a line break, when the next character is neither
 *    whitespace nor "/" (a punctuation piece may swallow "\n" and "/", a
 *    whitespace piece may run on over spaces, nothing else crosses a break);
 *  - at a space between a non-space character and a letter (the space opens
 *    the next word piece; no piece ends with a letter and takes the space).
 * Splitting at line breaks, and inside long lines at sentence ends, gives
 * segments whose counts can be cached: after a rule removes a footer, only
 * the segments it touched are tokenised again. `count` therefore equals
 * `tokenizer.count(text)` exactly (a test checks it over real corpora), at
 * a fraction of the cost when one document is counted after every rule.
 */
export class TokenMeter {
  readonly #tokenizer: Tokenizer;
  readonly #cache = new Map<string, number>();
  /** Bound the cache so that a long run over many documents stays flat in memory. */
  readonly #maxEntries: number;

  constructor(tokenizer: Tokenizer, maxEntries = 20_000) {
    this.#tokenizer = tokenizer;
    this.#maxEntries = maxEntries;
  }

  count(text: string): number {
    let total = 0;
    for (const segment of segmentsOf(text)) total += this.#segment(segment);
    return total;
  }

  /**
   * Tokens of `before` minus tokens of `after`, exactly, tokenising only the
   * segments that differ: those both texts share cancel out. A rule that
   * drops one footer from a long speech costs one sentence of BPE, not the
   * whole speech.
   */
  removed(before: string, after: string): number {
    const balance = new Map<string, number>();
    for (const segment of this.#segmentsOf(before)) balance.set(segment, (balance.get(segment) ?? 0) + 1);
    const afterSegments = segmentsOf(after);
    for (const segment of afterSegments) balance.set(segment, (balance.get(segment) ?? 0) - 1);
    this.#last = { text: after, segments: afterSegments };
    let removed = 0;
    for (const [segment, times] of balance) if (times !== 0) removed += times * this.#segment(segment);
    return removed;
  }

  /** The text the last `removed` call ended with is usually the next call's `before`: reuse its segments. */
  #last: { text: string; segments: string[] } | undefined;

  #segmentsOf(text: string): string[] {
    return this.#last?.text === text ? this.#last.segments : segmentsOf(text);
  }

  #segment(segment: string): number {
    const cached = this.#cache.get(segment);
    if (cached !== undefined) return cached;
    const count = this.#tokenizer.count(segment);
    // Long segments (a blob, a one-line page) rarely repeat; keeping them would let the cache grow with the input.
    if (segment.length > maxCachedSegment) return count;
    if (this.#cache.size >= this.#maxEntries) this.#cache.clear();
    this.#cache.set(segment, count);
    return count;
  }
}

/** Memory stays under roughly maxEntries × this many characters. */
const maxCachedSegment = 2000;

/** Segments shorter than this are merged with the next one: caching tiny pieces costs more than it saves. */
const minSegment = 64;

const letter = /\p{L}/u;

/** Split `text` on positions that are o200k piece boundaries (see TokenMeter). */
export function segmentsOf(text: string): string[] {
  const segments: string[] = [];
  let start = 0;
  const length = text.length;
  for (let index = 1; index < length; index++) {
    if (index - start < minSegment) continue;
    const previous = text.charCodeAt(index - 1);
    const current = text.charCodeAt(index);
    let boundary = false;
    if (previous === 10 /* \n */) {
      boundary = !isWhitespaceCode(current) && current !== 47; /* / */
    } else if (current === 32 && (previous === 46 || previous === 33 || previous === 63) /* . ! ? */) {
      // A sentence end inside a long line (speeches are one line each).
      boundary = index + 1 < length && letter.test(text[index + 1]!);
    }
    if (boundary) {
      segments.push(text.slice(start, index));
      start = index;
    }
  }
  if (start < length) segments.push(text.slice(start));
  return segments;
}

function isWhitespaceCode(code: number): boolean {
  // Everything the pre-tokenizer's \s covers that can start a line.
  return (
    code === 32 || (code >= 9 && code <= 13) || code === 0x85 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}
