import { createRequire } from 'node:module';
import nlp from 'compromise';
import datesPlugin from 'compromise-dates';
import type { Entity } from '../../src/document.js';
import { isoFromInterval, normalizeDate, normalizeMoney, normalizePercent, parseAmount } from './normalize.js';
import { findEmails, findPhones, findUrls, type Span } from './patterns.js';

/**
 * The extraction core, shared by the worker threads and the in-process
 * path: one section's text in, typed spans out. Loading this module loads
 * compromise (about 200 ms), so the stage imports it only where it runs.
 */

/*
 * Two taggers: compromise with the date parser, and a second copy of
 * compromise (its CommonJS build, a separate instance) without it. The date
 * plugin adds about a third to every parse, so text read for other types
 * only goes to the plain copy.
 */
const withDates = nlp;
withDates.plugin(datesPlugin);
const plain = createRequire(import.meta.url)('compromise') as typeof nlp;

export type EntityType = Entity['type'];

/** An entity found in one text, offsets into that text. */
export interface FoundEntity {
  type: EntityType;
  text: string;
  normalized?: string | number;
  start: number;
  end: number;
}

export interface ExtractTextOptions {
  /** Run the tagger; false for code blocks, where only the exact patterns make sense. */
  tagger?: boolean;
  /** ISO date that relative dates ("next Friday") resolve against; without it they stay unnormalised. */
  referenceDate?: string;
  /**
   * The parts of `text` the tagger reads (sentence runs, in order, not
   * overlapping); the exact patterns still read all of it. Without them the
   * tagger reads the whole text.
   */
  ranges?: readonly Span[];
}

/** Types that need the compromise tagger; the others are plain patterns. */
export const taggerTypes: ReadonlySet<EntityType> = new Set(['person', 'place', 'organization', 'date', 'money', 'percent', 'number']);

/** Just the parts of a compromise term we read; its typings do not describe terms. */
interface Term {
  text: string;
  pre: string;
  post: string;
  tags: Set<string>;
  /** Sentence and position, as compromise's `index` hook numbers them. */
  index?: [number, number];
  offset?: { index: number; start: number; length: number };
}

interface View {
  docs: Term[][];
  fullPointer: [number, number, number][];
  json(options?: object): { dates?: { start?: string | null; end?: string | null; unit?: string } }[];
}

interface TaggedDocument {
  document: Term[][];
  compute(name: string): void;
  people(): View;
  places(): View;
  organizations(): View;
  money(): View;
  percentages(): View;
  numbers(): View;
  dates(options?: object): View;
  /** A view of the same document over other pointers (`undefined`: all of it). */
  update(pointers: undefined): TaggedDocument;
}

const prepositionLike = new Set(['Preposition', 'Conjunction']);
const durationLike = new Set(['Duration', 'Determiner', 'Fraction', 'Cardinal', 'TextValue']);
const calendarLike = new Set(['Year', 'Month', 'WeekDay', 'Time', 'Holiday']);
const multipliers = /^(?:hundreds?|thousands?|millions?|billions?|trillions?|bn|mn|m|k)$/i;
const currencyWords = /^(?:dollars?|cents?|euros?|pounds?|yen|francs?|rupees?|bucks?|usd|eur|gbp|sterling)$/i;
const percentWords = /^(?:percent(?:age)?|per|cent|%|points?)$/i;

/**
 * Find entities of the given types in `text`.
 *
 * @example
 * extractFromText('We spent $13 millions.', new Set(['money']))
 * // [{ type: 'money', text: '$13 millions', normalized: '13000000 USD', start: 9, end: 21 }]
 */
export function extractFromText(text: string, types: ReadonlySet<EntityType>, options: ExtractTextOptions = {}): FoundEntity[] {
  return extractTexts([{ text, tagger: options.tagger !== false, ...(options.ranges === undefined ? {} : { ranges: options.ranges }) }], types, options.referenceDate)[0]!;
}

/** One backend job: every section's entities, in order (the worker threads and the in-process backend share it). */
export function extractJob(job: { sections: readonly ExtractSection[]; types: readonly EntityType[]; referenceDate?: string }): FoundEntity[][] {
  return extractTexts(job.sections, new Set<EntityType>(job.types), job.referenceDate);
}

/** A section as the backend gets it: its text, whether the tagger reads it, and the parts it reads. */
export interface ExtractSection {
  text: string;
  tagger: boolean;
  ranges?: readonly Span[];
}

/**
 * The tagger reads consecutive sections together, up to about this many
 * characters a call: each call has a fixed cost (every post-tagger rule
 * and every view runs over the call's document), which for short sections
 * (a heading, a line of a list) is most of it. Each section is still
 * tokenised on its own and read at its own offsets, so what it yields does
 * not depend on its neighbours.
 */
export const taggerWindowChars = 16_000;

/** Calls to the compromise tagger so far in this thread (a section read alone costs one; a window of sections, one). */
export const taggerCalls = { count: 0 };

function extractTexts(sections: readonly ExtractSection[], types: ReadonlySet<EntityType>, referenceDate: string | undefined): FoundEntity[][] {
  const wantsTagger = [...types].some((type) => taggerTypes.has(type));
  const found: FoundEntity[][] = [];
  const exacts: Span[][] = [];
  // The sections the tagger reads, as segments of one window after another.
  const segments: { section: number; read: string }[] = [];
  sections.forEach((section, index) => {
    const { text } = section;
    const list: FoundEntity[] = [];
    const emails = findEmails(text);
    const urls = findUrls(text).filter((span) => !overlapsAny(span, emails));
    const phones = findPhones(text).filter((span) => !overlapsAny(span, urls) && !overlapsAny(span, emails));
    if (types.has('email')) for (const span of emails) list.push(entity('email', text, span));
    if (types.has('url')) for (const span of urls) list.push(entity('url', text, span));
    if (types.has('phone')) for (const span of phones) list.push(entity('phone', text, span));
    found.push(list);
    exacts.push([...emails, ...urls, ...phones]);
    if (!wantsTagger || section.tagger === false) return;
    // Outside the ranges, every character but a line break becomes a space: one tagger read for the whole
    // section (a call per range costs about 2.5x as much), at unchanged offsets.
    const read = section.ranges === undefined ? text : blankOutside(text, section.ranges);
    // Text with no letters or digits (rules, separators) cannot hold a tagged entity; skip the tagger's cost.
    if (/[\p{L}\p{N}$£€¥]/u.test(read)) segments.push({ section: index, read });
  });

  for (let first = 0; first < segments.length; ) {
    let last = first + 1;
    let size = segments[first]!.read.length;
    while (last < segments.length && size + segments[last]!.read.length <= taggerWindowChars) size += segments[last++]!.read.length;
    const window = segments.slice(first, last);
    const results = tagWindow(
      window.map((segment) => ({ text: segment.read, exact: exacts[segment.section]! })),
      types,
      referenceDate,
    );
    window.forEach((segment, at) => {
      const ranges = sections[segment.section]!.ranges;
      const inside = (span: Span) => ranges === undefined || ranges.some((range) => range.start <= span.start && span.end <= range.end);
      found[segment.section]!.push(...results[at]!.filter(inside));
    });
    first = last;
  }
  return found.map((list) => dedupe(list.sort((a, b) => a.start - b.start || b.end - a.end)));
}

function blankOutside(text: string, ranges: readonly Span[]): string {
  let out = '';
  let at = 0;
  for (const range of ranges) {
    out += text.slice(at, range.start).replace(/[^\n]/g, ' ') + text.slice(range.start, range.end);
    at = range.end;
  }
  return out + text.slice(at).replace(/[^\n]/g, ' ');
}

/** What one segment of a window gets from the window's views: terms of its matches, pointers into its own sentences. */
interface SegmentViews {
  sentences: Term[][];
  people: Term[][];
  organizations: Term[][];
  places: Term[][];
  money: [number, number, number][];
  /** The numbers view, as each of its three reads saw it. */
  numbers: [number, number, number][][];
  percentages: [number, number, number][];
  dates: Term[][];
}

interface Tokenizer {
  hooks: string[];
  methods: { one: { tokenize: { fromString(text: string, world: unknown): Term[][] } } };
}

/**
 * Tag a window of segments with one compromise call. Each segment is split
 * into sentences and terms on its own (compromise's own tokeniser, as a
 * call on that text alone would), the sentences go to the tagger as one
 * document, and each term's offset is counted from its segment's start.
 * The tagger reads sentence by sentence, so a segment's tags are those of
 * a call on it alone.
 */
function tagWindow(segments: readonly { text: string; exact: Span[] }[], types: ReadonlySet<EntityType>, referenceDate: string | undefined): FoundEntity[][] {
  const tagger = types.has('date') ? withDates : plain;
  const world = (tagger as unknown as { world(): Tokenizer }).world();
  const sentences: Term[][] = [];
  const firstSentence: number[] = [];
  for (const segment of segments) {
    firstSentence.push(sentences.length);
    sentences.push(...world.methods.one.tokenize.fromString(segment.text, world));
  }
  firstSentence.push(sentences.length);
  taggerCalls.count++;
  // compromise-dates' tagger (its hook, the last) weighs every date of the document it sees ("months" stays a date
  // only if some date of the document reads "#Value #Duration"), so it runs on each segment's sentences alone, below.
  const hooks = world.hooks;
  const datesHook = hooks.includes('dates');
  let doc: TaggedDocument;
  try {
    if (datesHook) world.hooks = hooks.filter((hook) => hook !== 'dates');
    doc = (tagger as unknown as (input: unknown) => TaggedDocument)(sentences.map((terms) => ({ terms })));
  } finally {
    world.hooks = hooks;
  }
  const document = doc.document;
  // The tagger split or merged a sentence (never seen): read each segment alone instead.
  if (segments.length > 1 && document.length !== sentences.length) return segments.map((segment) => tagWindow([segment], types, referenceDate)[0]!);

  // compute('offset'), but from each segment's start.
  let index = 0;
  for (let segment = 0; segment < segments.length; segment++) {
    let elapsed = 0;
    for (let n = firstSentence[segment]!; n < firstSentence[segment + 1]!; n++) {
      for (const term of document[n]!) {
        term.offset = { index: index++, start: elapsed + term.pre.length, length: term.text.length };
        elapsed += term.pre.length + term.text.length + term.post.length;
      }
    }
  }
  return segments.map((segment, at) => {
    const own = document.slice(firstSentence[at], firstSentence[at + 1]);
    // A view whose document is the segment's own sentences (the same terms), indexed as a call on it alone would:
    // a view's heuristics weigh every match it holds (numbers split at commas when any match has one), and a view
    // over part of a larger document mislays its match cache, so a view of the window would read a segment differently.
    own.forEach((terms, n) => terms.forEach((term, position) => (term.index = [n, position])));
    const part = doc.update(undefined);
    part.document = own;
    if (datesHook) part.compute('dates');
    const pointers = (view: View) => view.fullPointer.map(([n, s, e]): [number, number, number] => [n, s, e]);
    // The views in the order a single call reads them, so any tags a view leaves behind fall where they did.
    const views: SegmentViews = {
      sentences: own,
      people: types.has('person') ? part.people().docs : [],
      organizations: types.has('organization') ? part.organizations().docs : [],
      places: types.has('place') ? part.places().docs : [],
      money: [],
      numbers: [[], [], []],
      percentages: [],
      dates: [],
    };
    if (types.has('money') || types.has('number')) {
      views.money = pointers(part.money());
      views.numbers[0] = pointers(part.numbers());
    }
    if (types.has('percent') || types.has('number')) {
      views.numbers[1] = pointers(part.numbers());
      views.percentages = pointers(part.percentages());
    }
    if (types.has('number')) views.numbers[2] = pointers(part.numbers());
    if (types.has('date')) views.dates = part.dates().docs;
    return tagged(segment.text, views, types, segment.exact, referenceDate);
  });
}

function tagged(text: string, views: SegmentViews, types: ReadonlySet<EntityType>, exact: Span[], referenceDate: string | undefined): FoundEntity[] {
  const { sentences } = views;
  const found: FoundEntity[] = [];
  const keep = (type: EntityType, span: Span | undefined, normalized?: string | number) => {
    if (!span || span.end <= span.start || overlapsAny(span, exact)) return;
    const value = text.slice(span.start, span.end);
    if (!/[\p{L}\p{N}]/u.test(value)) return;
    if (nameTypes.has(type) && !looksLikeName(type, value)) return;
    found.push(normalized === undefined ? { type, text: value, start: span.start, end: span.end } : { type, text: value, normalized, start: span.start, end: span.end });
  };

  for (const [type, docs] of [
    ['person', views.people],
    ['organization', views.organizations],
    ['place', views.places],
  ] as const) {
    for (const terms of docs) keep(type, dropPossessive(text, spanOf(text, terms)));
  }

  // Money first: its spans keep the same numbers from being reported again as plain numbers.
  const moneySpans: Span[] = [];
  if (types.has('money') || types.has('number')) {
    const candidates = [...views.money, ...views.numbers[0]!.filter(([n, s]) => /^(?:US|C|A)?[$£€¥₹]/.test(sentences[n]?.[s]?.text ?? ''))];
    for (const [n, s, e] of mergePointers(candidates).flatMap((pointer) => splitAmounts(pointer, sentences))) {
      const sentence = sentences[n] ?? [];
      let end = e;
      // "$13 millions", "3 billion euros": compromise stops before the multiplier or the currency word.
      while (end < sentence.length && (multipliers.test(sentence[end]!.text) || currencyWords.test(sentence[end]!.text))) end++;
      const span = spanOf(text, sentence.slice(s, end));
      if (!span) continue;
      const value = text.slice(span.start, span.end);
      const normalized = normalizeMoney(value);
      // A span with no currency is a bare number compromise guessed at ("millions of"); leave it to `number`.
      if (normalized === undefined && !/[$£€¥₹¢]|dollar|cent|euro|pound/i.test(value)) continue;
      moneySpans.push(span);
      if (types.has('money')) keep('money', span, normalized);
    }
  }

  const percentSpans: Span[] = [];
  if (types.has('percent') || types.has('number')) {
    // compromise reads "3 per cent" (the older spelling, common in SOTU) as a bare number.
    const perCent = views.numbers[1]!.filter(([n, , e]) => {
      const next = sentences[n]?.[e]?.text.toLowerCase();
      return next === 'percent' || (next === 'per' && sentences[n]?.[e + 1]?.text.toLowerCase() === 'cent');
    });
    for (const [n, s, e] of mergePointers([...views.percentages, ...perCent])) {
      const sentence = sentences[n] ?? [];
      let end = e;
      while (end < sentence.length && percentWords.test(sentence[end]!.text) && end - e < 2 && !/[,;:]/.test(sentence[end - 1]!.post)) end++;
      const span = spanOf(text, sentence.slice(s, end));
      if (!span || overlapsAny(span, moneySpans)) continue;
      percentSpans.push(span);
      if (types.has('percent')) keep('percent', span, normalizePercent(text.slice(span.start, span.end)));
    }
  }

  if (types.has('number')) {
    for (const [n, s, e] of views.numbers[2]!) {
      const sentence = sentences[n] ?? [];
      const terms = sentence.slice(s, e);
      // Years, days of the month and times belong to dates; the stage reports them there.
      if (terms.some((term) => term.tags.has('Date') || term.tags.has('Year') || term.tags.has('Time'))) continue;
      const numberSpan = spanOf(text, terms);
      if (!numberSpan || overlapsAny(numberSpan, moneySpans) || overlapsAny(numberSpan, percentSpans)) continue;
      const value = parseAmount(text.slice(numberSpan.start, numberSpan.end));
      if (value === undefined) continue;
      // Numbers with units only ("40 miles", "3,000 soldiers", "one million young Americans"): a bare
      // number is a list marker, a page or a count nobody will ask about.
      const unit = /[,;:.!?()]/.test(sentence[e - 1]?.post ?? '') ? undefined : unitAfter(sentence, e);
      if (unit === undefined) continue;
      keep('number', spanOf(text, sentence.slice(s, unit + 1)), value);
    }
  }

  if (types.has('date')) {
    views.dates.forEach((terms) => {
      let first = 0;
      let last = terms.length;
      // "on March 3rd", "7.5% last year": the lead-in is not part of the date.
      while (first < last && (isTagged(terms[first]!, prepositionLike) || terms[first]!.tags.has('Percent') || terms[first]!.tags.has('Money') || !terms[first]!.tags.has('Date'))) first++;
      while (last > first && isTagged(terms[last - 1]!, prepositionLike)) last--;
      const kept = terms.slice(first, last);
      // "two years", "half a century", "a season" are durations, not dates; "the year 2000" is a date.
      if (kept.every((term) => isTagged(term, durationLike)) && !kept.some((term) => isTagged(term, calendarLike))) return;
      const span = spanOf(text, kept);
      if (!span) return;
      const value = text.slice(span.start, span.end);
      keep('date', span, normalizeDate(value) ?? (referenceDate ? resolveRelative(value, referenceDate) : undefined));
    });
    // Years compromise tagged but left out of every date phrase ("reduced from $11,411,779 in 1897 to ...").
    const years = found.filter((entity) => entity.type === 'date');
    for (const sentence of sentences) {
      for (const term of sentence) {
        if (!term.tags.has('Year') || !/^\d{4}$/.test(term.text)) continue;
        const span = spanOf(text, [term]);
        if (span && !overlapsAny(span, years)) keep('date', span, term.text);
      }
    }
    // Fiscal and relative periods compromise-dates does not read ("the current fiscal year", "fiscal year 1947").
    const dated = found.filter((entity) => entity.type === 'date');
    for (const match of text.matchAll(periodPattern)) {
      const span = { start: match.index, end: match.index + match[0].length };
      if (!overlapsAny(span, dated)) keep('date', span, normalizeDate(match[0]));
    }
  }

  if (types.has('person')) {
    const people = found.filter((entity) => entity.type === 'person');
    for (const span of titledNames(text, sentences)) if (!overlapsAny(span, people)) keep('person', span);
  }
  return found;
}

const periodPattern = /\b(?:(?:the|this|that)\s+)?(?:current|next|last|previous|past|coming|present|same|following|preceding|ensuing)\s+(?:fiscal\s+|calendar\s+)?(?:year|quarter|decade|century)\b|\b(?:fiscal|calendar)\s+years?\s+\d{4}\b|\b(?:today|tonight|tomorrow|yesterday)\b/gi;

/** Titles that are followed by a name: "Prime Ministers Churchill and Attlee", "Secretary Jim Baker". */
const titles = new Set([
  'President', 'Senator', 'Sen', 'Representative', 'Rep', 'Congressman', 'Congresswoman', 'Governor', 'Gov', 'Secretary',
  'Minister', 'Ministers', 'Chancellor', 'King', 'Queen', 'Prince', 'Princess', 'Emperor', 'General', 'Gen', 'Generals',
  'Admiral', 'Colonel', 'Col', 'Captain', 'Capt', 'Lieutenant', 'Lt', 'Sergeant', 'Sgt', 'Private', 'Corporal', 'Marshal',
  'Agent', 'Judge', 'Justice', 'Dr', 'Mr', 'Mrs', 'Ms', 'Messrs', 'Miss', 'Sir', 'Lord', 'Lady', 'Pope', 'Bishop', 'Rev',
  'Reverend', 'Ambassador', 'Mayor', 'Commissioner', 'Chairman', 'Professor', 'Prof', 'Officer', 'Detective', 'Pastor',
]);
const notNameTags = new Set(['Place', 'Organization', 'Date', 'Month', 'WeekDay', 'Honorific', 'Actor', 'Pronoun', 'Value', 'Acronym']);

function titledNames(text: string, sentences: Term[][]): Span[] {
  const spans: Span[] = [];
  for (const sentence of sentences) {
    for (let index = 0; index < sentence.length; index++) {
      const title = sentence[index]!;
      if (!titles.has(title.text.replace(/\.$/, '')) || /[,;:()]/.test(title.post)) continue;
      const plural = /s$/.test(title.text) && title.text !== 'Messrs';
      let cursor = index + 1;
      while (cursor < sentence.length) {
        const run: Term[] = [];
        while (cursor < sentence.length && isNameTerm(sentence[cursor]!)) {
          run.push(sentence[cursor]!);
          cursor++;
          if (/[,;:()]/.test(run.at(-1)!.post)) break;
        }
        const span = run.length > 0 ? dropPossessive(text, spanOf(text, run)) : undefined;
        if (span) spans.push(span);
        // "Prime Ministers Churchill and Attlee": a plural title governs a list of names.
        if (!plural || run.length === 0 || sentence[cursor]?.text.toLowerCase() !== 'and') break;
        cursor++;
      }
      index = cursor - 1;
    }
  }
  return spans;
}

function isNameTerm(term: Term): boolean {
  return /^\p{Lu}[\p{L}'’.-]*$/u.test(term.text) && term.tags.has('ProperNoun') && !isTagged(term, notNameTags);
}

/**
 * Resolve a relative date against a reference day with compromise-dates.
 * Parsing costs about as much as tagging, so it runs only on the few dates
 * the plain normaliser could not read, and on the date's own text: a parse
 * of a longer context fails on lead-ins like "due next Friday".
 */
function resolveRelative(value: string, referenceDate: string): string | undefined {
  const words = value.split(/\s+/);
  // compromise-dates gives up on a lead-in word it tagged into the date ("due next Friday"); retry without it.
  for (let skip = 0; skip < Math.min(3, words.length); skip++) {
    const [parsed] = (withDates(words.slice(skip).join(' ')) as unknown as TaggedDocument).dates({ today: referenceDate, timezone: 'UTC' }).json();
    const interval = parsed?.dates;
    if (interval?.start) return isoFromInterval(interval.start, interval.end, interval.unit);
  }
  return undefined;
}

/** Index of the unit noun after a number, across at most two adjectives; undefined when there is none. */
function unitAfter(sentence: Term[], end: number): number | undefined {
  for (let index = end; index < Math.min(sentence.length, end + 3); index++) {
    const term = sentence[index]!;
    if (term.tags.has('Pronoun') || term.tags.has('Date') || term.tags.has('Value')) return undefined;
    if (term.tags.has('Unit') || (term.tags.has('Noun') && term.tags.has('Plural'))) return index;
    if (!term.tags.has('Adjective') || /[,;:.!?]/.test(term.post)) return undefined;
    if (index > end && /[,;:.!?]/.test(sentence[index - 1]!.post)) return undefined;
  }
  return undefined;
}

const nameTypes: ReadonlySet<EntityType> = new Set(['person', 'place', 'organization']);

/**
 * compromise guesses names from context and sometimes tags a lower-case word
 * ("uri") or a shouted acronym ("PAM", "IST") as a person or place; a name
 * has a capital, and a one-word all-capitals person is an acronym.
 */
function looksLikeName(type: EntityType, value: string): boolean {
  if (!/\p{Lu}/u.test(value)) return false;
  if (type === 'person' && /^[\p{Lu}\d.&-]+$/u.test(value)) return false;
  return true;
}

function isTagged(term: Term, tags: ReadonlySet<string>): boolean {
  for (const tag of term.tags) if (tags.has(tag)) return true;
  return false;
}

/** Character span of a run of terms, checked against the text so a drifted offset is dropped rather than reported. */
function spanOf(text: string, terms: readonly Term[]): Span | undefined {
  const first = terms[0];
  const last = terms.at(-1);
  if (!first?.offset || !last?.offset) return undefined;
  const start = first.offset.start;
  let end = last.offset.start + last.text.length;
  if (text.slice(start, start + first.text.length) !== first.text || text.slice(last.offset.start, end) !== last.text) return undefined;
  // compromise keeps an abbreviation's full stop in `post` ("Mr.", "Corp."); it belongs to the name.
  if (last.tags.has('Abbreviation') && last.post.startsWith('.') && text[end] === '.') end++;
  return trimSpan(text, { start, end });
}

/** Drop quotes, brackets and prose punctuation a term kept ("(1)", "“Lincoln"), keeping balanced brackets ("(R-TX)"). */
function trimSpan(text: string, span: Span): Span | undefined {
  let { start, end } = span;
  for (;;) {
    const first = text[start] ?? '';
    const last = text[end - 1] ?? '';
    if (/["“‘'(\[]/.test(first) && !(first === '(' && text.slice(start, end).includes(')') && last === ')' && end - start > 3 && !/^\(\d+\)$/.test(text.slice(start, end)))) start++;
    else if (/[,;:!?"”’'\]]/.test(last) || (last === ')' && !text.slice(start, end - 1).includes('('))) end--;
    else if (/\([^)]*$/.test(text.slice(start, end))) end = start + text.slice(start, end).lastIndexOf('(');
    else if (/\s/.test(last)) end--;
    else break;
    if (end <= start) return undefined;
  }
  return { start, end };
}

function dropPossessive(text: string, span: Span | undefined): Span | undefined {
  if (!span) return span;
  const tail = text.slice(span.end - 2, span.end);
  return tail === "'s" || tail === '’s' ? { start: span.start, end: span.end - 2 } : span;
}

/** "$5 and $7" is two amounts: a currency symbol starts a new one, and a joining word between them belongs to neither. */
function splitAmounts([n, s, e]: [number, number, number], sentences: Term[][]): [number, number, number][] {
  const sentence = sentences[n] ?? [];
  const pieces: [number, number, number][] = [];
  let start = s;
  for (let index = s + 1; index <= e; index++) {
    if (index < e && !/^(?:US|C|A)?[$£€¥₹]/.test(sentence[index]?.text ?? '')) continue;
    let end = index;
    while (end > start + 1 && /^(?:and|or|to|-|–)$/i.test(sentence[end - 1]!.text)) end--;
    pieces.push([n, start, end]);
    start = index;
  }
  return pieces;
}

/** Union of overlapping or touching term ranges within the same sentence. */
function mergePointers(pointers: [number, number, number][]): [number, number, number][] {
  const sorted = [...pointers].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number, number][] = [];
  for (const pointer of sorted) {
    const previous = merged.at(-1);
    if (previous && previous[0] === pointer[0] && pointer[1] < previous[2]) previous[2] = Math.max(previous[2], pointer[2]);
    else merged.push([...pointer]);
  }
  return merged;
}

function overlapsAny(span: Span, others: readonly Span[]): boolean {
  return others.some((other) => span.start < other.end && other.start < span.end);
}

function entity(type: EntityType, text: string, span: Span): FoundEntity {
  return { type, text: text.slice(span.start, span.end), start: span.start, end: span.end };
}

/** One entity per type and span; a person that is also reported as an organisation keeps both types. */
function dedupe(entities: FoundEntity[]): FoundEntity[] {
  const seen = new Set<string>();
  return entities.filter((found) => {
    const key = `${found.type}:${found.start}:${found.end}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
