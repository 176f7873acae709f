import { get_encoding, type Tiktoken } from 'tiktoken';

/**
 * Token counting in o200k_base, the GPT-4o encoding. Behind an interface so
 * tests and embedders can swap it, but the default is the real tokenizer:
 * budgets are only exact if we count with what OpenAI bills.
 */
export interface Tokenizer {
  count(text: string): number;
  encode(text: string): Uint32Array;
  decode(tokens: Uint32Array): string;
}

let shared: Tiktoken | undefined;

function encoder(): Tiktoken {
  // One WASM encoder per process (or worker): creating one costs ~100 ms.
  shared ??= get_encoding('o200k_base');
  return shared;
}

/*
 * Counting is the one thing every stage boundary does, so it has a fast
 * path that is still exact. o200k_base first splits text into pieces with
 * one regular expression, then byte-pair-encodes each piece on its own:
 * the count of a text is the sum of its pieces' counts. Prose repeats its
 * pieces (" the", " of", ","), so we split in JavaScript, ask tiktoken once
 * per distinct piece and remember the answer. On SOTU that is ~6x faster
 * than encoding every text, with identical counts (test/tokens.test.ts
 * checks SOTU, SpamAssassin and a Unicode fuzz against tiktoken).
 *
 * The expression is o200k_base's own, as tiktoken publishes it, with two
 * translations JavaScript needs: `(?i:'s|…)` is spelled out by case (with
 * `ſ`, which Unicode case-folds to `s`), and `\s` is Unicode White_Space, as
 * in tiktoken's Rust regex (JavaScript's `\s` adds U+FEFF and lacks U+0085).
 */
const space = String.raw`\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const upper = String.raw`\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}`;
const lower = String.raw`\p{Ll}\p{Lm}\p{Lo}\p{M}`;
const contraction = String.raw`(?:'[sSſ]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`;
const o200kPieces = new RegExp(
  [
    String.raw`[^\r\n\p{L}\p{N}]?[${upper}]*[${lower}]+${contraction}`,
    String.raw`[^\r\n\p{L}\p{N}]?[${upper}]+[${lower}]*${contraction}`,
    String.raw`\p{N}{1,3}`,
    String.raw` ?[^${space}\p{L}\p{N}]+[\r\n/]*`,
    String.raw`[${space}]*[\r\n]+`,
    String.raw`[${space}]+(?![^${space}])`,
    String.raw`[${space}]+`,
  ].join('|'),
  'gu',
);

/**
 * Characters whose Unicode category may differ between V8's tables and the
 * ones tiktoken was built with (planes 1 and up, where recent Unicode
 * versions add scripts), emoji and symbols aside: text holding one is
 * counted by tiktoken whole, so a newer script can never skew a count.
 */
const uncertainCategory = /[\u{10000}-\u{1EFFF}\u{1FB00}-\u{10FFFF}]/u;

/** Pieces longer than this are counted but not remembered: they rarely repeat, and memory stays small. */
const memoPieceLength = 48;
const memoLimit = 200_000;
const pieceCounts = new Map<string, number>();

function countPieces(text: string): number {
  const tiktoken = encoder();
  let total = 0;
  o200kPieces.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = o200kPieces.exec(text)) !== null) {
    const piece = match[0];
    let count = pieceCounts.get(piece);
    if (count === undefined) {
      count = tiktoken.encode_ordinary(piece).length;
      if (piece.length <= memoPieceLength) {
        if (pieceCounts.size >= memoLimit) pieceCounts.clear();
        pieceCounts.set(piece, count);
      }
    }
    total += count;
  }
  return total;
}

function countChunk(text: string): number {
  if (uncertainCategory.test(text)) return encoder().encode_ordinary(text).length;
  return countPieces(text);
}

/*
 * A second memo, of sentences and lines: a run counts the same text several
 * times (a stage's input and output, the sections stage's sections and
 * sentences, the record's prompt), whole, cut or re-wrapped. Two kinds of
 * position always end a piece of o200k's split, and no part of the
 * expression looks behind, so a text cut there into chunks has exactly the
 * sum of their counts:
 * - after a line break followed by a character that is neither white space
 *   nor "/" (only those may follow a line break inside a piece);
 * - after a sentence's closing ".", "!" or "?" followed by a space and a
 *   letter (the mark ends a punctuation piece; the space starts the word's).
 */
const chunkBoundary = new RegExp(String.raw`\n(?=[^${space}/])|[.!?](?= \p{L})`, 'gu');
const chunkMemoMinimum = 64;
const chunkMemoChars = 4_000_000;
const chunkCounts = new Map<string, number>();
let chunkChars = 0;

function countChunks(text: string): number {
  let total = 0;
  let from = 0;
  chunkBoundary.lastIndex = 0;
  for (;;) {
    const match = chunkBoundary.exec(text);
    const end = match === null ? text.length : match.index + 1;
    const chunk = text.slice(from, end);
    if (chunk.length < chunkMemoMinimum) {
      total += countChunk(chunk);
    } else {
      let count = chunkCounts.get(chunk);
      if (count === undefined) {
        count = countChunk(chunk);
        if (chunkChars + chunk.length > chunkMemoChars) {
          chunkCounts.clear();
          chunkChars = 0;
        }
        // A copy of just the chunk: a slice would keep its whole document alive.
        chunkCounts.set((' ' + chunk).slice(1), count);
        chunkChars += chunk.length;
      }
      total += count;
    }
    if (match === null) return total;
    from = end;
  }
}

export const o200k: Tokenizer = {
  count(text) {
    if (text.length === 0) return 0;
    return text.length < 2 * chunkMemoMinimum ? countChunk(text) : countChunks(text);
  },
  encode(text) {
    return encoder().encode_ordinary(text);
  },
  decode(tokens) {
    return new TextDecoder().decode(encoder().decode(tokens));
  },
};

/** Count o200k_base tokens of `text`. */
export function countTokens(text: string): number {
  return o200k.count(text);
}
