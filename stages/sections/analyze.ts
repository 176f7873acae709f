import { stemmer } from 'stemmer';

/**
 * Text to index terms for lexical scoring: case-folded, diacritics folded
 * ("Röntgen" matches "Rontgen"), stop words out, Porter-stemmed. Numbers stay
 * as they are, because a year or an amount in the task is a strong cue.
 */

/** English function words: they match everything, so they would only add noise to BM25. */
export const stopWords: ReadonlySet<string> = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him himself ' +
    'his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ' +
    'ourselves out over own same she should so some such than that the their theirs them themselves then there these they this ' +
    'those through to too under until up very was we were what when where which while who whom whose why will with would you ' +
    'your yours yourself yourselves s t don shall may might must us one ones get got let lets upon yet within without via per ' +
    'etc ie eg please tell give find list name named show explain describe summarize summarise summary document documents text ' +
    'according many much does did'
  ).split(' '),
);

const word = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Case- and diacritic-folded words of `text`, in order, with nothing removed (for shingles and verbatim checks). */
export function words(text: string): string[] {
  const folded = fold(text);
  return folded.match(word) ?? [];
}

const termCache = new Map<string, readonly string[]>();

/** Index terms: folded words minus stop words, stemmed. Memoised (bounded): sentences repeat across a corpus. */
export function terms(text: string): string[] {
  const hit = termCache.get(text);
  if (hit) return hit.slice();
  const out = computeTerms(text);
  if (text.length <= 2000) {
    if (termCache.size >= 20_000) termCache.clear();
    termCache.set(text, out.slice());
  }
  return out;
}

function computeTerms(text: string): string[] {
  const out: string[] = [];
  for (const raw of words(text)) {
    const token = raw.replace(/['’]s$/, '').replace(/['’]/g, '');
    if (token.length === 0 || stopWords.has(token)) continue;
    out.push(/^\d/.test(token) ? token : stem(token));
  }
  out.push(...literals(text));
  return out;
}

/**
 * Literals: a version, a dotted or snake_case name, a number with its
 * separators (`0.2.3`, `gc.auto`, `utf-8`, `max_retries`, `2,600`), as one
 * term beside its parts. Split into words, `1.2.3` matches every sentence
 * holding a 1, a 2 and a 3; whole, it matches only itself, so a task that
 * quotes one finds the unit that holds it. Hyphenated words of letters only
 * are left to the phrase score: they are prose, not names.
 */
const literal = /[\p{L}\p{N}_]+(?:[.\-_/:,][\p{L}\p{N}_]+)+/gu;

function literals(text: string): string[] {
  const out: string[] = [];
  for (const match of fold(text).matchAll(literal)) {
    const candidate = match[0];
    // Hyphenated words and comma lists of letters are prose: a literal holds a digit, or a dot or underscore inside a word.
    if (!/\d/.test(candidate) && !/[\p{L}\p{N}][._][\p{L}\p{N}]/u.test(candidate)) continue;
    if (/,/.test(candidate) && !/^\d{1,3}(?:,\d{3})+$/.test(candidate)) continue;
    out.push(candidate);
  }
  return out;
}

const stems = new Map<string, string>();

/** Porter stems, remembered: a corpus has far fewer distinct words than words. */
function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    stemmed = stemmer(word);
    if (stems.size >= 100_000) stems.clear();
    stems.set(word, stemmed);
  }
  return stemmed;
}

const cache = new Map<string, string>();

/** Lower case without diacritics; memoised per distinct input because tasks repeat. */
export function fold(text: string): string {
  if (text.length < 64) {
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
  }
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  if (text.length < 64) {
    if (cache.size > 10_000) cache.clear();
    cache.set(text, folded);
  }
  return folded;
}
