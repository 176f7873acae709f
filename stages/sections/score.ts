import type { Entity, SectionLabel, SectionPrior } from '../../src/document.js';
import { fold, terms } from './analyze.js';
import type { Outline, Unit } from './units.js';
import { centredCosine, normalise, type WordVectors } from './vectors.js';

/**
 * How much each unit is worth to the task. Lexical BM25 (the task is the
 * query) over sentences, plus the BM25 of the sentence's whole section (the
 * answer sentence often does not repeat the question's words, its
 * neighbours do), plus its headings; then multipliers for the entity types
 * and names the task asks for and for the classifier's label.
 */
export interface ScoreWeights {
  /** Weight of the section's BM25 added to each of its sentences. @default 0.6 */
  context: number;
  /** Weight of the best neighbouring sentence's BM25. @default 0.3 */
  neighbour: number;
  /** Weight of the heading path's BM25. @default 0.6 */
  heading: number;
  /** Multiplier bonus when a unit holds an entity of a type the task asks for. @default 0.3 */
  entity: number;
  /** Multiplier bonus per task name found verbatim (as a phrase) in the unit. @default 0.3 */
  name: number;
  /** How much the share of the task's terms a section covers (body and headings) lifts its score. @default 1 */
  coverage: number;
  /** Bonus per pair of task terms found next to each other in the section, as in the task. @default 0.5 */
  phrase: number;
  /** How many times heading terms count inside their section's text. @default 2 */
  headingTerms: number;
  /** Extra share of the section's score for its first sentence, which names what the section is about. @default 0.5 */
  lead: number;
  /**
   * Weight of shared meaning (word vectors, see `vectors.ts`) against the
   * lexical score, both scaled to the document's best: it lifts sentences
   * that say what the task asks in other words. 0 turns it off.
   * @default 0.5
   */
  meaning: number;
  /**
   * Weight of the scores around a unit, in document order (a window of
   * `regionUnits` on each side, nearer counting more): evidence clusters in
   * one region of a long manual, and a sentence in a dense region beats an
   * equal one alone. 0 turns it off. (0.75 and 6 units were chosen on the
   * synthetic training tasks of models/relevance/train/data, not the dev set.)
   * @default 0.75
   */
  region: number;
  /** Units on each side that make a unit's region. @default 6 */
  regionUnits: number;
  /** Weight of the pseudo-relevance feedback pass (see `feedback`). 0 turns it off. @default 0.3 */
  feedback: number;
}

export const defaultWeights: ScoreWeights = { context: 0.6, neighbour: 0.3, heading: 0.6, entity: 0.3, name: 0.3, coverage: 1, phrase: 0.5, headingTerms: 2, lead: 0.5, meaning: 0.5, region: 0.75, regionUnits: 6, feedback: 0.3 };

/** Labels a classifier gives to text nobody asks about; their sections are down-weighted by the label's score. */
const noiseLabel = /noise|legal|disclaim|navigation|nav|menu|footer|header|signature|quoted|quote|reference|bibliograph|boilerplate|advert|\bads?\b|cookie|spam|unsubscribe|toc|table.of.contents/i;

/** Whether a classifier label names text nobody asks about (a signature, navigation, a disclaimer). */
export function isNoiseLabel(label: string): boolean {
  return noiseLabel.test(label);
}

/** Heading titles whose sections are rarely what a task is after. */
const noiseHeading = /^(references|bibliography|works cited|notes|footnotes|acknowledge?ments?|see also|external links|further reading|navigation|contents|table of contents|copyright|legal|disclaimer|privacy|cookies?)\b/i;

export interface ScoreInput {
  outline: Outline;
  task: string;
  wants: { types: readonly Entity['type'][]; names: readonly string[] };
  entities: readonly Entity[] | undefined;
  labels: Readonly<Record<string, SectionLabel>> | undefined;
  priors: Readonly<Record<string, SectionPrior>> | undefined;
  labelWeights: Readonly<Record<string, number>>;
  weights: ScoreWeights;
  /** Word vectors for the meaning score; without them scoring is lexical only. */
  vectors?: WordVectors | undefined;
}

const numericTypes = new Set<Entity['type']>(['money', 'percent', 'number']);

const k1 = 1.2;
const b = 0.75;

/** Scores every unit in place; returns whether the task matched anything lexically (else scores are centrality). */
export function scoreUnits(input: ScoreInput): { lexical: boolean } {
  const { outline, weights } = input;
  const all = outline.units.flat();
  if (all.length === 0) return { lexical: false };
  const index = indexOf(input, all);
  const lexical = lexicalScores(input, index, input.task);
  if (lexical && weights.feedback > 0) feedback(input, index, weights.feedback);
  if (!lexical) centrality(outline, all);
  const multipliers = index.multipliers;
  if (input.vectors && weights.meaning > 0) blendMeaning(input.vectors, input.task, outline, multipliers, weights.meaning);
  if (weights.region > 0 && weights.regionUnits >= 1) addRegion(all, weights.region, Math.round(weights.regionUnits));
  return { lexical };
}

/**
 * Pseudo-relevance feedback (RM3's idea, inside one document): the terms
 * that the best-scoring units share, weighted by how rare they are in the
 * document, are the document's own words for what the task asks; a second
 * lexical pass with them, scaled to its best, adds `weight` to the first
 * pass scaled to its best. It finds the option names and the vocabulary of
 * a region the task describes in other words.
 */
function feedback(input: ScoreInput, index: DocumentIndex, weight: number): void {
  const { all } = index;
  const top = best(all, feedbackUnits);
  const query = new Set(terms(input.task));
  const frequency = new Map<string, number>();
  for (const unit of all) for (const term of new Set(unit.terms)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
  const mass = new Map<string, number>();
  const bestScore = top[0]?.score ?? 0;
  if (!(bestScore > 0)) return;
  for (const unit of top) {
    const share = unit.score / bestScore;
    for (const term of new Set(unit.terms)) {
      if (query.has(term) || term.length < 2) continue;
      const count = frequency.get(term) ?? 1;
      if (count < 2) continue;
      mass.set(term, (mass.get(term) ?? 0) + share * Math.log(all.length / count));
    }
  }
  const expansion = [...mass].filter(([, value]) => value > 0).sort((left, right) => right[1] - left[1]).slice(0, feedbackTerms).map(([term]) => term);
  if (expansion.length === 0) return;
  const first = all.map((unit) => unit.score);
  const firstBest = largest(first);
  if (!lexicalScores(input, index, expansion, false)) {
    all.forEach((unit, position) => (unit.score = first[position]!));
    return;
  }
  const secondBest = largest(all.map((unit) => unit.score));
  all.forEach((unit, position) => (unit.score = first[position]! / firstBest + (secondBest > 0 ? (weight * unit.score) / secondBest : 0)));
}

const feedbackUnits = 5;
const feedbackTerms = 10;

/** The `count` best-scoring units, best first (earlier first on ties, as a stable sort): one pass, not a sort of every unit. */
function best(all: readonly Unit[], count: number): Unit[] {
  const top: Unit[] = [];
  for (const unit of all) {
    if (top.length === count && !(unit.score > top[count - 1]!.score)) continue;
    let at = top.length;
    while (at > 0 && unit.score > top[at - 1]!.score) at--;
    top.splice(at, 0, unit);
    if (top.length > count) top.pop();
  }
  return top;
}

/**
 * What lexical scoring needs of a document whatever the query: every unit,
 * each section's terms with its heading path counted `headingTerms` times,
 * the heading paths, entity types per unit and each section's multiplier.
 * Built once, so the feedback pass scores against it again for only the
 * cost of its own query.
 */
interface DocumentIndex {
  all: readonly Unit[];
  averageUnit: number;
  pathTerms: string[][];
  sectionTerms: string[][];
  /** `sectionTerms` of the sections that have units. */
  bodies: string[][];
  averageSection: number;
  entityTypes: Map<Unit, Set<Entity['type']>>;
  multipliers: number[];
}

function indexOf(input: ScoreInput, all: readonly Unit[]): DocumentIndex {
  const { outline, weights } = input;
  const headingTerms = outline.sections.map((section) => (section.kind === 'heading' ? terms(section.text) : []));
  const pathTerms = outline.units.map((_, index) => outline.ancestors[index]!.flatMap((ancestor) => headingTerms[ancestor]!));
  const repeats = Math.max(0, Math.round(weights.headingTerms));
  const sectionTerms = outline.units.map((units, index) => {
    const body = units.flatMap((unit) => unit.terms);
    const path = pathTerms[index]!;
    for (let repeat = 0; repeat < repeats; repeat++) body.push(...path);
    return body;
  });
  const bodies = sectionTerms.filter((_, index) => outline.units[index]!.length > 0);
  return {
    all,
    averageUnit: average(all.map((unit) => unit.terms.length)),
    pathTerms,
    sectionTerms,
    bodies,
    averageSection: average(bodies.map((body) => body.length)),
    entityTypes: entityTypesByUnit(input, all),
    multipliers: outline.units.map((units, index) => (units.length > 0 ? multiplierOf(input, index) : 1)),
  };
}

/**
 * Lexical scores of every unit against `task` (its text, or index terms), into `unit.score`; whether anything matched.
 * Only the task's own pass (`markMatched`) sets `unit.matched`, which says whether a unit shares a term with the task.
 */
function lexicalScores(input: ScoreInput, index: DocumentIndex, task: string | readonly string[], markMatched = true): boolean {
  const { outline, weights } = input;
  const { all, averageUnit, pathTerms, sectionTerms, bodies, averageSection, entityTypes } = index;
  const query = [...new Set(typeof task === 'string' ? terms(task) : task)];

  // Sentence-level BM25, with document frequencies over the units.
  const unitIdf = idf(query, all.map((unit) => unit.terms));
  const sentence = new Map<Unit, number>();
  for (const unit of all) sentence.set(unit, bm25(query, unit.terms, unitIdf, averageUnit));

  // Section-level BM25F: the body plus its heading path (headings count more), so a topical section lifts all its sentences.
  const sectionIdf = idf(query, bodies);
  const idfMass = [...sectionIdf.values()].reduce((sum, value) => sum + value, 0);
  const pairs = typeof task === 'string' ? queryPairs(task) : [];

  const foldedNames = input.wants.names.map((name) => fold(name)).filter((name) => name.length > 1);
  const wanted = new Set(input.wants.types);

  let lexical = false;
  for (let section = 0; section < outline.units.length; section++) {
    const units = outline.units[section]!;
    if (units.length === 0) continue;
    const own = sectionTerms[section]!;
    let context = bm25(query, own, sectionIdf, averageSection);
    if (context > 0 && idfMass > 0) {
      // Many different task terms beat one term many times: scale by the idf share of the task the section covers.
      const present = new Set(own);
      let covered = 0;
      for (const [term, weight] of sectionIdf) if (present.has(term)) covered += weight;
      const share = covered / idfMass;
      context *= 1 + weights.coverage * share * share;
      context += weights.phrase * phraseHits(pairs, own);
    }
    const heading = bm25(query, pathTerms[section]!, sectionIdf, Math.max(4, averageSection / 8));
    const multiplier = index.multipliers[section]!;

    for (const unit of units) {
      const ownScore = sentence.get(unit)!;
      const before = units[unit.position - 1];
      const after = units[unit.position + 1];
      const neighbour = Math.max(before ? sentence.get(before)! : 0, after ? sentence.get(after)! : 0);
      let score = ownScore + weights.context * context + weights.neighbour * neighbour + weights.heading * heading;
      if (unit.position === 0) score += weights.lead * context;
      if (score > 0) lexical = true;
      if (markMatched) unit.matched = score > 0;
      const types = entityTypes.get(unit);
      if (types && [...types].some((type) => wanted.has(type))) score *= 1 + weights.entity;
      if (foldedNames.length > 0) {
        const text = fold(unit.text);
        const hits = foldedNames.filter((name) => text.includes(name)).length;
        score *= 1 + weights.name * Math.min(hits, 2);
      }
      unit.score = score * multiplier;
    }
  }
  return lexical;
}

/**
 * Adds to each unit `weight` times the triangle-weighted mean score of the
 * units within `width` of it in document order, scaled so the densest
 * region adds `weight` times the best unit's score. Two passes of running
 * sums keep it linear in the units.
 */
function addRegion(all: readonly Unit[], weight: number, width: number): void {
  const scores = all.map((unit) => Math.max(0, unit.score));
  const best = largest(scores);
  if (best <= 0 || all.length < 3) return;
  const region = new Float64Array(all.length);
  for (let index = 0; index < all.length; index++) {
    let sum = 0;
    for (let offset = -width; offset <= width; offset++) {
      if (offset === 0) continue;
      const score = scores[index + offset];
      if (score !== undefined) sum += score * (1 - Math.abs(offset) / (width + 1));
    }
    region[index] = sum;
  }
  const densest = largest(region);
  if (densest <= 0) return;
  all.forEach((unit, index) => (unit.score += (weight * best * region[index]!) / densest));
}

/**
 * Adds shared meaning to the scores: each unit's SIF cosine with the task
 * (its own, plus half its section's, as the lexical score has context),
 * centred on the document's mean direction so that what every sentence
 * shares counts for nothing, scaled from the document's median (0) to its
 * best (1), times `weight`, beside the lexical score scaled to its best.
 */
function blendMeaning(vectors: WordVectors, task: string, outline: Outline, multipliers: readonly number[], weight: number): void {
  const query = vectors.embedTerms(terms(task));
  if (!query) return;
  normalise(query);
  const unitVectors = new Map<Unit, Float32Array>();
  const centre = new Float32Array(vectors.dimensions);
  let count = 0;
  for (const units of outline.units) {
    for (const unit of units) {
      const vector = vectors.embedTerms(unit.terms);
      if (!vector) continue;
      normalise(vector);
      unitVectors.set(unit, vector);
      for (let index = 0; index < centre.length; index++) centre[index]! += vector[index]!;
      count++;
    }
  }
  if (count < 2) return;
  for (let index = 0; index < centre.length; index++) centre[index]! /= count;
  const similarity = new Map<Unit, number>();
  outline.units.forEach((units) => {
    const sectionVector = new Float32Array(vectors.dimensions);
    for (const unit of units) {
      const vector = unitVectors.get(unit);
      if (vector) for (let index = 0; index < sectionVector.length; index++) sectionVector[index]! += vector[index]!;
    }
    const section = centredCosine(sectionVector, query, centre);
    for (const unit of units) {
      const vector = unitVectors.get(unit);
      similarity.set(unit, (vector ? centredCosine(vector, query, centre) : 0) + 0.5 * section);
    }
  });
  const values = [...similarity.values()].sort((left, right) => left - right);
  const median = values[Math.floor(values.length / 2)]!;
  const best = values.at(-1)!;
  const all = outline.units.flat();
  const bestLexical = largest(all.map((unit) => unit.score));
  if (!(best > median)) return;
  outline.units.forEach((units, index) => {
    for (const unit of units) {
      const meaning = Math.min(1, Math.max(0, (similarity.get(unit)! - median) / (best - median)));
      unit.score = (bestLexical > 0 ? unit.score / bestLexical : 0) + weight * meaning * multipliers[index]!;
    }
  });
}

/** Adjacent pairs of task terms ("old lace", "nobel prize"): a section holding the pair in order is about the same thing. */
function queryPairs(task: string): string[] {
  const taskTerms = terms(task);
  const pairs = new Set<string>();
  for (let index = 0; index + 1 < taskTerms.length; index++) pairs.add(`${taskTerms[index]} ${taskTerms[index + 1]}`);
  return [...pairs];
}

function phraseHits(pairs: readonly string[], sectionTerms: readonly string[]): number {
  if (pairs.length === 0) return 0;
  const present = new Set<string>();
  for (let index = 0; index + 1 < sectionTerms.length; index++) present.add(`${sectionTerms[index]} ${sectionTerms[index + 1]}`);
  return pairs.filter((pair) => present.has(pair)).length;
}

/** A section's label or prior, and a noise heading above it (references, notes), as one factor on its units' scores. */
function multiplierOf(input: ScoreInput, index: number): number {
  const { outline } = input;
  let multiplier = labelMultiplier(input, outline.sections[index]!.id);
  if (outline.ancestors[index]!.some((ancestor) => noiseHeading.test(titleOf(outline.sections[ancestor]!.text)))) multiplier *= 0.5;
  return multiplier;
}

function titleOf(headingText: string): string {
  return headingText.split('\n', 1)[0]!.replace(/^#+\s*/, '').replace(/^[\d.]+\s+/, '').trim();
}

/**
 * What a regex prior is worth by default: a quoted reply often holds the
 * question a task asks about, so it keeps most of its score; a signature,
 * a footer or a disclaimer rarely answers anything, but still can.
 */
export const defaultPriorWeights: Readonly<Record<string, number>> = { quoted: 0.8, signature: 0.4, footer: 0.3, legal: 0.4, navigation: 0.3 };

function labelMultiplier(input: ScoreInput, sectionId: string): number {
  const label = input.labels?.[sectionId];
  const prior = input.priors?.[sectionId];
  // A prior and a label that say the same thing are one piece of evidence: the stronger discount holds, they do not compound.
  let noise = 1;
  let bonus = 1;
  if (prior) noise = input.labelWeights[prior.label] ?? defaultPriorWeights[prior.label] ?? 1;
  if (label) {
    const explicit = input.labelWeights[label.label];
    if (explicit !== undefined) noise = Math.min(noise, explicit);
    // The more sure the classifier is that this is noise, the less the section is worth, but never nothing: it may be wrong.
    else if (noiseLabel.test(label.label)) noise = Math.min(noise, Math.max(0.25, 1 - 0.6 * clamp(label.score)));
    // A task after amounts or counts is after the sections the classifier calls figures.
    else if (/^(figures?|numbers?|numeric|data|tables?)$/i.test(label.label) && input.wants.types.some((type) => numericTypes.has(type))) bonus = 1 + 0.3 * clamp(label.score);
  }
  return noise * bonus;
}

/**
 * With no lexical match (a generic task such as "summarise"), rank by how
 * central a unit is to the document: its terms' document frequency, with
 * section leads first. Small scores, so they never outrank a real match.
 */
function centrality(outline: Outline, all: readonly Unit[]): void {
  const frequency = new Map<string, number>();
  for (const unit of all) for (const term of new Set(unit.terms)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
  const total = all.length;
  let order = 0;
  for (const units of outline.units) {
    for (const unit of units) {
      const unique = new Set(unit.terms);
      let sum = 0;
      for (const term of unique) {
        const count = frequency.get(term) ?? 0;
        // Terms in one unit only are names of passing details; in every unit, filler.
        if (count > 1 && count < total) sum += Math.log(1 + count);
      }
      const lead = unit.position === 0 ? 1.3 : 1;
      const early = 1 + 0.2 * (1 - order++ / Math.max(1, total));
      unit.score = (1e-3 * lead * early * sum) / Math.sqrt(1 + unique.size);
    }
  }
}

function entityTypesByUnit(input: ScoreInput, all: readonly Unit[]): Map<Unit, Set<Entity['type']>> {
  const byUnit = new Map<Unit, Set<Entity['type']>>();
  if (input.wants.types.length === 0) return byUnit;
  if (input.entities) {
    const bySection = new Map<string, Entity[]>();
    for (const entity of input.entities) {
      const list = bySection.get(entity.section);
      if (list) list.push(entity);
      else bySection.set(entity.section, [entity]);
    }
    for (const unit of all) {
      const entities = bySection.get(input.outline.sections[unit.section]!.id);
      if (!entities) continue;
      const types = new Set<Entity['type']>();
      for (const entity of entities) if (entity.start >= unit.start && entity.end <= unit.end) types.add(entity.type);
      if (types.size > 0) byUnit.set(unit, types);
    }
    return byUnit;
  }
  // No entity stage in this run: cheap surface cues stand in, so "when"/"how many" tasks still favour dates and numbers.
  for (const unit of all) {
    const types = surfaceTypes(unit.text);
    if (types.size > 0) byUnit.set(unit, types);
  }
  return byUnit;
}

const month = /\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+\d{1,4}\b/i;

/** Entity types visible on the surface of `text`, without a model. */
export function surfaceTypes(text: string): Set<Entity['type']> {
  const types = new Set<Entity['type']>();
  if (/\b(?:1[0-9]{3}|20[0-9]{2})s?\b/.test(text) || month.test(text)) types.add('date');
  if (/\d/.test(text)) types.add('number');
  if (/[$€£¥]\s?\d|\b\d[\d,.]*\s?(?:dollars|euros|pounds|million|billion|trillion)\b/i.test(text)) types.add('money');
  if (/\d\s?%|\bper\s?cent\b/i.test(text)) types.add('percent');
  // A capitalised word that does not open a sentence: a name of someone, something or somewhere.
  if (/[\p{Ll},;]\s+\p{Lu}\p{Ll}+/u.test(text)) {
    types.add('person');
    types.add('organization');
    types.add('place');
  }
  if (/[\w.+-]+@[\w-]+\.[\w.]+/.test(text)) types.add('email');
  if (/\bhttps?:\/\/\S+/i.test(text)) types.add('url');
  if (/\+?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b/.test(text)) types.add('phone');
  return types;
}

function idf(query: readonly string[], documents: readonly (readonly string[])[]): Map<string, number> {
  const result = new Map<string, number>();
  const count = documents.length;
  for (const term of query) {
    let frequency = 0;
    for (const document of documents) if (document.includes(term)) frequency++;
    if (frequency === 0) continue;
    result.set(term, Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5)));
  }
  return result;
}

function bm25(query: readonly string[], document: readonly string[], weights: Map<string, number>, averageLength: number): number {
  if (document.length === 0 || weights.size === 0) return 0;
  let score = 0;
  for (const term of query) {
    const weight = weights.get(term);
    if (weight === undefined) continue;
    let frequency = 0;
    for (const candidate of document) if (candidate === term) frequency++;
    if (frequency === 0) continue;
    score += (weight * frequency * (k1 + 1)) / (frequency + k1 * (1 - b + (b * document.length) / Math.max(1, averageLength)));
  }
  return score;
}

/** The largest value, at least 0; a loop, since spreading a long document's units into Math.max overflows the stack. */
function largest(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 0; index < values.length; index++) if (values[index]! > best) best = values[index]!;
  return best;
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
