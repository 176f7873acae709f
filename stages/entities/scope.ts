import type { Entity, Section } from '../../src/document.js';
import { sentenceSpans } from '../../src/sections.js';
import { terms } from '../sections/analyze.js';
import { maxUnitChars } from '../sections/units.js';
import type { FoundEntity } from './extract.js';
import { normalizeDate, normalizeMoney, normalizePercent } from './normalize.js';
import type { Span } from './patterns.js';
import { taskEntityWants } from './task.js';

/**
 * Which sections are worth compromise's time under `scope: 'task'`, and the
 * cheap exact detectors that run on the rest.
 *
 * The sections stage uses entities for one thing only: a unit holding an
 * entity of a type the task asks for gets its score multiplied. A multiplier
 * on a score of zero is zero, and a section shares no term with the task
 * (body or heading path, the same stemmed terms the sections stage scores)
 * scores zero, unless nothing in the document matches the task at all (then
 * the sections stage ranks by centrality). So compromise reads the sections
 * that share a term with the task, best first, and, when the task asks for
 * entity types, the sections holding a cheap cue for them; up to a cap.
 */

export interface ScopePlan {
  /** Per section, in order: whether compromise reads it. */
  scan: boolean[];
}

/** Roughly 4 characters per o200k token in English prose; the cap needs a size, not an exact count. */
const charsPerToken = 4;

const moneyCue = /[$£€¥₹]\s?\d|\b\d[\d,.]*\s+(?:(?:hundred|thousand|million|billion|trillion)\s+)?(?:dollars|euros|pounds)\b|\b(?:million|billion|trillion)\b/i;
const percentCue = /\d\s?%|\bper\s?cent\b|\bpercent\b/i;
const numberCue = /\d|\b(?:hundred|thousand|million|billion|trillion)\b/i;
const dateCue =
  /\b(?:january|february|march|april|june|july|august|september|october|november|december)\b|\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:today|tomorrow|yesterday|fiscal\s+year|next\s+year|last\s+year)\b/i;
// Two capitalised words in a row, not at a sentence start: a person's or an organisation's name, most often.
const nameCue = /[\p{Ll}\p{N},;]\s+\p{Lu}[\p{Ll}.]+\s+(?:of\s+)?\p{Lu}\p{Ll}+/u;
const placeCue = /[\p{Ll},;]\s+(?:in|at|from|to)\s+\p{Lu}\p{Ll}+/u;

const cues: Partial<Record<Entity['type'], RegExp>> = {
  money: moneyCue,
  percent: percentCue,
  number: numberCue,
  date: dateCue,
  person: nameCue,
  organization: nameCue,
  place: placeCue,
};

/*
 * Within a section compromise reads, only the sentences holding a cue for a
 * type the task asks for are worth tagging: the sections stage boosts a
 * sentence for holding a wanted entity, and a sentence with no currency, no
 * digit and no capitalised word cannot hold a wanted sum, count or name.
 * These cues are wider than the section cues above (recall matters here, not
 * rank): every form compromise reports for the type must contain one.
 */
const numberWords = 'hundred|thousand|million|billion|trillion|dozens?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety';
const sentenceCues: Partial<Record<Entity['type'], RegExp>> = {
  money: /[$£€¥₹¢]|\b(?:dollars?|cents?|euros?|pounds?|yen|francs?|rupees?|bucks|usd|eur|gbp|sterling)\b/i,
  percent: /%|\bper\s?cent|\bpercent/i,
  number: new RegExp(`\\d|\\b(?:${numberWords})\\b`, 'i'),
  date: /\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b(?:today|tonight|tomorrow|yesterday|week|weekend|month|year|decade|century|spring|summer|autumn|fall|winter|christmas|easter|noon|midnight|morning|evening)s?\b/i,
  // A capitalised word after a sentence's first word, or an acronym: where names are.
  person: /\S\s+["'“‘(]?\p{Lu}|\b\p{Lu}{2,}/u,
  organization: /\S\s+["'“‘(]?\p{Lu}|\b\p{Lu}{2,}/u,
  place: /\S\s+["'“‘(]?\p{Lu}|\b\p{Lu}{2,}/u,
};

/**
 * The parts of a section's text the tagger needs to read for `types`: runs
 * of consecutive sentences holding a cue for one of them. `undefined` when
 * that is the whole text (or when no type has a cue, so nothing narrows it).
 */
export function cuedRanges(text: string, types: readonly Entity['type'][]): Span[] | undefined {
  const wanted = types.map((type) => sentenceCues[type]).filter((cue): cue is RegExp => cue !== undefined);
  if (wanted.length === 0) return undefined;
  const ranges: Span[] = [];
  let all = true;
  let previousCued = false;
  for (const sentence of sentenceSpans(text)) {
    const part = text.slice(sentence.start, sentence.end);
    const cued = wanted.some((cue) => cue.test(part));
    all &&= cued;
    if (cued && previousCued) ranges.at(-1)!.end = sentence.end;
    else if (cued) ranges.push({ start: sentence.start, end: sentence.end });
    previousCued = cued;
  }
  return all ? undefined : ranges;
}

export interface PlanScopeInput {
  sections: readonly Section[];
  task: string;
  /** Token budget of the run; without one there is no cap. */
  budget: number | undefined;
  /** Cap on compromise's reading, in multiples of the budget. */
  budgetFactor: number;
}

/**
 * Pick the sections compromise reads: those sharing a stemmed term with the
 * task (weighted by how rare the term is in the document, times 1.3 when
 * they also hold a cue for a wanted type), then cue-only sections, best
 * first, until about `budgetFactor × budget` tokens are taken.
 */
export function planScope(input: PlanScopeInput): ScopePlan {
  // The entities and classify stages ask for the same plan of the same sections, one after the other.
  const key = `${input.budget}\u0000${input.budgetFactor}\u0000${input.task}`;
  const known = plans.get(input.sections);
  if (known?.key === key) return { scan: [...known.plan.scan] };
  const plan = computePlan(input);
  plans.set(input.sections, { key, plan });
  return { scan: [...plan.scan] };
}

/** Plans by the sections array they were made for: a document's cut is one array until its text changes. */
const plans = new WeakMap<readonly Section[], { key: string; plan: ScopePlan }>();

function computePlan(input: PlanScopeInput): ScopePlan {
  const { sections } = input;
  const query = [...new Set(terms(input.task))];
  const wantedCues = [...new Set(taskEntityWants(input.task).types.map((type) => cues[type]).filter((cue): cue is RegExp => cue !== undefined))];

  // The section's body plus its heading path twice, as the sections stage weighs them.
  const sectionTerms = sections.map((section) => {
    if (section.kind === 'code') return [];
    const path = terms(section.headings.join(' '));
    return [...bodyTerms(section), ...path, ...path];
  });
  const termSets = sectionTerms.map((list) => new Set(list));
  const count = Math.max(1, sections.length);
  const idf = new Map<string, number>();
  for (const term of query) {
    const frequency = termSets.filter((set) => set.has(term)).length;
    if (frequency > 0) idf.set(term, Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5)));
  }
  const idfMass = [...idf.values()].reduce((sum, value) => sum + value, 0);
  const averageLength = sectionTerms.reduce((sum, list) => sum + list.length, 0) / count;

  const scored: { index: number; score: number }[] = [];
  sections.forEach((section, index) => {
    if (section.kind === 'code' || !/[\p{L}\p{N}$£€¥]/u.test(section.text)) return;
    const overlap = sectionScore(sectionTerms[index]!, termSets[index]!, idf, idfMass, averageLength);
    const cued = wantedCues.some((cue) => cue.test(section.text));
    // Cue-only sections rank after every overlapping one: they matter only when the task matches nothing.
    if (overlap > 0) scored.push({ index, score: overlap * (cued ? 1.3 : 1) + 1 });
    else if (cued) scored.push({ index, score: 0.5 });
  });

  scored.sort((a, b) => b.score - a.score || a.index - b.index);
  const cap = input.budget === undefined ? Number.POSITIVE_INFINITY : input.budget * input.budgetFactor * charsPerToken;
  const scan = sections.map(() => false);
  let taken = 0;
  for (const { index } of scored) {
    const length = sections[index]!.text.length;
    // Always read the best one, however long, so a budget smaller than one section still gets its entities.
    if (taken > 0 && taken + length > cap) continue;
    scan[index] = true;
    taken += length;
  }
  return { scan };
}

/**
 * A section's terms, sentence by sentence: the same terms as the whole text
 * (sentences split at white space, which no term spans), and the same
 * sentence strings the sections stage's units are, so its `terms` calls
 * find these in the memo instead of stemming the text a second time.
 */
function bodyTerms(section: Section): string[] {
  if (section.kind === 'list' || section.kind === 'table') return terms(section.text);
  return sentenceSpans(section.text, maxUnitChars).flatMap((span) => terms(section.text.slice(span.start, span.end)));
}

/** BM25 of the section against the task, lifted by the idf share of the task it covers (the sections stage's section score, without phrases). */
function sectionScore(list: readonly string[], present: ReadonlySet<string>, idf: ReadonlyMap<string, number>, idfMass: number, averageLength: number): number {
  if (list.length === 0 || idfMass === 0) return 0;
  let score = 0;
  let covered = 0;
  for (const [term, weight] of idf) {
    if (!present.has(term)) continue;
    let frequency = 0;
    for (const candidate of list) if (candidate === term) frequency++;
    score += (weight * frequency * 2.2) / (frequency + 1.2 * (0.25 + (0.75 * list.length) / Math.max(1, averageLength)));
    covered += weight;
  }
  const share = covered / idfMass;
  return score * (1 + share * share);
}

const month = '(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\\.?|Feb\\.?|Mar\\.?|Apr\\.?|Jun\\.?|Jul\\.?|Aug\\.?|Sept?\\.?|Oct\\.?|Nov\\.?|Dec\\.?)';

const moneyPattern = new RegExp(
  [
    String.raw`(?:US|C|A)?[$£€¥₹]\s?\d[\d,]*(?:\.\d+)?(?:\s+(?:hundred|thousand|million|billion|trillion)s?)?(?![\d])`,
    String.raw`\b\d[\d,]*(?:\.\d+)?(?:\s+(?:hundred|thousand|million|billion|trillion))?\s+(?:dollars|euros|pounds)\b`,
  ].join('|'),
  'g',
);
const percentPattern = /\b\d[\d,]*(?:\.\d+)?\s?(?:%|percent\b|per\s+cent\b)/g;
const datePattern = new RegExp(
  [
    // "July 4, 1976", "July 4th 1976", "4 July 1976"
    String.raw`\b${month}\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`,
    String.raw`\b\d{1,2}\s+${month}\s+\d{4}\b`,
    // "July 1976"
    String.raw`\b${month}\s+\d{4}\b`,
    // "fiscal year 1947"
    String.raw`\b(?:fiscal|calendar)\s+years?\s+\d{4}\b`,
    // "in 1897", "since 1990": a four-digit number after a time preposition is a year, not a count.
    String.raw`(?<=\b(?:in|of|since|until|till|by|from|to|through|during|before|after|year|early|late|mid)\s)(?:1[5-9]\d\d|20\d\d)\b(?![,.]?\d)`,
  ].join('|'),
  'g',
);

/**
 * Money amounts with a currency, percentages, and dates that name their year,
 * by exact patterns: what a skipped section still reports. Narrower than
 * compromise ("a billion dollars", "next spring" are left to it) but never a
 * guess.
 */
export function findCheapEntities(text: string, types: ReadonlySet<Entity['type']>, exact: readonly Span[]): FoundEntity[] {
  const found: FoundEntity[] = [];
  const taken: Span[] = [...exact];
  const add = (type: Entity['type'], start: number, end: number, normalized: string | number | undefined) => {
    const span = { start, end };
    if (taken.some((other) => span.start < other.end && other.start < span.end)) return;
    taken.push(span);
    const value = text.slice(start, end);
    found.push(normalized === undefined ? { type, text: value, start, end } : { type, text: value, normalized, start, end });
  };
  if (types.has('money')) {
    for (const match of text.matchAll(moneyPattern)) {
      const value = match[0].replace(/[,.]+$/, '');
      add('money', match.index, match.index + value.length, normalizeMoney(value));
    }
  }
  if (types.has('percent')) {
    for (const match of text.matchAll(percentPattern)) add('percent', match.index, match.index + match[0].length, normalizePercent(match[0]));
  }
  if (types.has('date')) {
    for (const match of text.matchAll(datePattern)) add('date', match.index, match.index + match[0].length, normalizeDate(match[0]));
  }
  return found.sort((a, b) => a.start - b.start);
}
