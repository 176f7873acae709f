import type { DistillDocument, RuleSaving, Section } from '../src/document.js';
import { invalidOption } from '../src/errors.js';
import { unknownOption } from '../src/options.js';
import { renderSections, sectionOffsets, sectionsOf, setSections } from '../src/sections.js';
import type { RemovalHint } from '../src/spans/trace.js';
import type { Stage, StageContext } from '../src/stage.js';
import { taskEntityWants } from './entities/task.js';
import { shinglesOf, ShingleIndex } from './sections/dedupe.js';
import { defaultWeights, isNoiseLabel, scoreUnits, type ScoreWeights } from './sections/score.js';
import { fillOrder, pack } from './sections/select.js';
import { outline, type Unit } from './sections/units.js';
import { loadRelevanceModel, type RelevanceModel } from './sections/relevance-model.js';
import { rerank } from './sections/rerank.js';
import { loadWordVectors, type WordVectors } from './sections/vectors.js';

/**
 * Task-aware section selection under an exact token budget: the stage that
 * decides what GPT-4o sees. Sections (and the sentences of long ones) are
 * scored against the task, near duplicates are kept once (also across the
 * documents of a run), and the best are kept in their original order,
 * verbatim, with their headings, until the o200k count of the final text
 * reaches the budget. It is never exceeded.
 */
export interface SelectSectionsOptions {
  /**
   * Token budget when the run gives none (`context.budget`, from `--budget`,
   * wins). With neither a budget nor a `ratio`, nothing the task could use
   * is cut: the document goes whole but for near duplicates and for the
   * sections labelled noise (quoted replies, signatures, disclaimers,
   * navigation) that share nothing with the task.
   */
  budget?: number;
  /**
   * `sentence` chooses sentences (and list or table lines) inside sections;
   * `section` keeps sections whole, splitting only one too big for the budget.
   * @default 'sentence'
   */
  granularity?: 'sentence' | 'section';
  /** Keep the headings above every kept unit, as context. @default true */
  keepHeadings?: boolean;
  /**
   * Where near duplicates are looked for: `run` (earlier sections of this
   * document and what this stage kept from earlier documents), `document`, or `off`.
   * Under `run` the stage is `ordered`: a pipeline gives it the documents
   * one at a time, in input order, so "earlier" never depends on timing.
   * @default 'run'
   */
  dedupe?: 'run' | 'document' | 'off';
  /** Share of a section's word shingles already seen that makes it a duplicate. @default 0.8 */
  dedupeThreshold?: number;
  /**
   * With no budget, keep this share of each document's tokens, the most
   * relevant first (LLMLingua's `rate`): `0.2` keeps a fifth.
   */
  ratio?: number;
  /**
   * Score multipliers by classifier label, over the built-in ones (noise-like
   * labels such as `navigation`, `legal`, `signature` are down-weighted by their score).
   * @example { "legal": 0, "pricing": 1.5 }
   */
  labelWeights?: Record<string, number>;
  /** Scoring weights; see `ScoreWeights`. */
  weights?: Partial<ScoreWeights>;
  /**
   * The cross-encoder that re-reads the best candidates when a cut is
   * needed (`models/relevance`, see its card): a local folder, a hub id
   * (with `allowRemoteModels`), or `false` for the first pass alone.
   * @default false
   */
  relevanceModel?: string | false;
  /** Let `relevanceModel` be a hub id that is downloaded. @default false */
  allowRemoteModels?: boolean;
  /** Share of a candidate's score that is the cross-encoder's. @default 0.5 */
  rerankWeight?: number;
}

/** What the stage records on `doc.data.selection` (and the output record). */
export interface SelectionRecord {
  budget: number | null;
  /**
   * How the cut was made: `fits` (within the budget after dedupe, kept
   * whole), `budget`, `ratio`, or `whole` (no budget: only duplicates and
   * noise the task does not touch went).
   */
  cut: 'fits' | 'budget' | 'ratio' | 'whole';
  granularity: 'sentence' | 'section';
  /** Whether the task matched the text; when not, units were ranked by centrality. */
  lexical: boolean;
  sectionsIn: number;
  sectionsKept: number;
  sentencesIn: number;
  sentencesKept: number;
  /** Exact o200k count of the text the stage received. */
  tokensIn: number;
  tokensKept: number;
  duplicates: { section: string; of: string }[];
}

declare module '../src/document.js' {
  interface DataMap {
    selection?: SelectionRecord;
  }
}

const minimumShingles = 8;

/** The cross-encoder reads candidates worth this many budgets, at most `rerankCandidates` of them. */
const rerankReach = 3;
const rerankCandidates = 96;


export function selectSections(options: SelectSectionsOptions = {}): Stage {
  const settings = validate(options);
  const runIndex = new ShingleIndex();
  let vectors: WordVectors | undefined;
  let model: Promise<RelevanceModel> | undefined;
  const relevance = () =>
    (model ??= loadRelevanceModel({ ...(settings.relevanceModel === false ? {} : { model: settings.relevanceModel }), allowRemoteModels: settings.allowRemoteModels, threads: 1 }));

  return {
    name: 'sections',
    // What run-wide dedupe drops depends on what was kept from the documents before: they must come in input order.
    ordered: settings.dedupe === 'run',
    load: () => (settings.relevanceModel === false ? Promise.resolve() : relevance()),
    async run(doc: DistillDocument, context: StageContext) {
      const budget = context.budget ?? settings.budget;
      // The tokenizer remembers sentence and line counts itself (src/tokens.ts): repeated boilerplate is counted once.
      const tokenizer = context.tokenizer;
      const sections = sectionsOf(doc);
      const shape = outline(sections, tokenizer, settings.granularity, budget);
      const bodies = shape.units.filter((units) => units.length > 0).length;
      const sentencesIn = shape.units.reduce((sum, units) => sum + units.length, 0);

      // Near duplicates: earlier in this document, or kept from an earlier document of the run.
      const duplicates: { section: string; of: string }[] = [];
      const duplicateSet = new Set<number>();
      const documentIndex = new ShingleIndex();
      const shingles = new Map<string, Set<number>>();
      if (settings.dedupe !== 'off') {
        for (let index = 0; index < sections.length; index++) {
          const section = sections[index]!;
          if (section.kind === 'heading') continue;
          const set = shinglesOf(section.text, minimumShingles);
          shingles.set(section.text, set);
          const of = documentIndex.find(set, settings.dedupeThreshold) ?? (settings.dedupe === 'run' ? runIndex.find(set, settings.dedupeThreshold) : undefined);
          if (of !== undefined) {
            duplicates.push({ section: section.id, of });
            duplicateSet.add(index);
          } else {
            documentIndex.add(set, section.id);
          }
        }
      }

      const { lexical } = scoreUnits({
        outline: shape,
        task: context.task,
        wants: taskEntityWants(context.task),
        entities: doc.data.entities,
        labels: doc.data.labels,
        priors: doc.data.priors,
        labelWeights: settings.labelWeights,
        weights: settings.weights,
        vectors: settings.weights.meaning > 0 ? (vectors ??= loadWordVectors()) : undefined,
      });

      const savings: RuleSaving[] = [];
      const noise = new Set<number>();
      let kept: Section[];
      let keptUnits: readonly Unit[];
      let cut: SelectionRecord['cut'];
      let tokensKept: number;
      const withoutDuplicates = sections.filter((_, index) => !duplicateSet.has(index));
      // The runner has just counted this very text, so the count's memo of its sentences and lines makes this exact
      // count cheap; the text without duplicates is mostly the same sentences again.
      const tokensIn = context.tokenizer.count(doc.value);
      const dedupedTokens = duplicates.length === 0 ? tokensIn : context.tokenizer.count(renderSections(withoutDuplicates));
      if (duplicates.length > 0) savings.push({ rule: 'sections:dedupe', hits: duplicates.length, tokensRemoved: tokensIn - dedupedTokens });
      if (duplicates.length > 0 && duplicates.length === bodies) {
        doc.message(`every section repeats an earlier one (first: ${duplicates[0]!.of}); nothing new is left to send`, 'sections:dedupe', {
          fix: 'set `stages.sections.dedupe` to `document` to keep documents independent',
        });
      }

      const remaining = shape.units.filter((_, index) => !duplicateSet.has(index));
      const limit = budget ?? (settings.ratio === undefined ? undefined : Math.max(1, Math.floor(dedupedTokens * settings.ratio)));
      if (limit !== undefined ? dedupedTokens <= limit : !lexical) {
        // It fits, or (no budget) the task matched nothing lexically, so nothing can be called irrelevant: keep it whole.
        cut = limit === undefined ? 'whole' : 'fits';
        kept = withoutDuplicates;
        keptUnits = remaining.flat();
        tokensKept = dedupedTokens;
      } else if (limit === undefined) {
        // No budget: drop only sections that a stage labelled noise and that share nothing with the task.
        cut = 'whole';
        // By index, once each: a document of many thousand sections must not pay a search per section.
        sections.forEach((section, index) => {
          const units = shape.units[index]!;
          if (!duplicateSet.has(index) && units.length > 0 && isNoise(doc, section.id) && units.every((unit) => !unit.matched)) noise.add(index);
        });
        kept = sections.filter((_, index) => !duplicateSet.has(index) && !noise.has(index));
        keptUnits = remaining.flat().filter((unit) => !noise.has(unit.section));
        tokensKept = noise.size === 0 ? dedupedTokens : context.tokenizer.count(renderSections(kept));
        if (noise.size > 0) savings.push({ rule: 'sections:noise', hits: noise.size, tokensRemoved: dedupedTokens - tokensKept });
      } else {
        const all = remaining.flat();
        cut = budget === undefined ? 'ratio' : 'budget';
        if (settings.relevanceModel !== false) await rerank(context.task, all, limit, { model: await relevance(), weight: settings.rerankWeight, reach: rerankReach, maxCandidates: rerankCandidates });
        const candidates = fillOrder(shape, all, lexical);
        const packed = pack(shape, candidates, limit, tokenizer, settings.keepHeadings);
        kept = packed.sections;
        keptUnits = packed.units;
        tokensKept = packed.tokens;
        savings.push({ rule: 'sections:budget', hits: all.length - packed.units.length, tokensRemoved: dedupedTokens - packed.tokens });
        if (packed.units.length === 0 && all.length === 0 && duplicates.length > 0) {
          // Everything left was a near duplicate of text kept earlier in the run: say so, not "too big".
          doc.message('every sentence repeats text kept earlier in the run; nothing new is left to send', 'sections:dedupe', {
            fix: 'set `stages.sections.dedupe` to `document` to keep documents independent',
          });
        } else if (packed.units.length === 0 && all.length > 0) {
          doc.message(`no sentence fits the budget of ${limit} tokens; the distilled text is empty`, 'sections:budget', {
            fix: 'raise --budget, or split the document',
          });
        }
      }

      if (doc.data.spans) doc.data.spanHints = removalHints(doc, { sections, units: shape.units, kept, keptUnits, duplicates, duplicateSet, noise });
      // A document this stage removed nothing from stays byte for byte as it is: re-rendering would normalise its blank
      // lines, a change of tokens that no rule made and none would be credited with.
      const removedNothing = (cut === 'fits' || cut === 'whole') && kept.length === sections.length;
      if (!removedNothing) setSections(doc, kept);
      if (settings.dedupe === 'run') {
        for (const section of kept) {
          if (section.kind === 'heading') continue;
          // A section kept whole has its shingles already; one cut to some sentences needs its own.
          runIndex.add(shingles.get(section.text) ?? shinglesOf(section.text, minimumShingles), `${doc.source}#${section.id}`);
        }
      }
      doc.data.ruleSavings = [...(doc.data.ruleSavings ?? []), ...savings.filter((saving) => saving.hits > 0)];
      doc.data.selection = {
        budget: budget ?? null,
        cut,
        granularity: settings.granularity,
        lexical,
        sectionsIn: bodies,
        sectionsKept: new Set(keptUnits.map((unit) => unit.section)).size,
        sentencesIn,
        sentencesKept: keptUnits.length,
        tokensIn,
        tokensKept,
        duplicates,
      };
      return undefined;
    },
  };
}

interface Decisions {
  sections: readonly Section[];
  units: readonly (readonly Unit[])[];
  kept: readonly Section[];
  keptUnits: readonly Unit[];
  duplicates: readonly { section: string; of: string }[];
  duplicateSet: ReadonlySet<number>;
  noise: ReadonlySet<number>;
}

/**
 * Span capture (see src/spans/trace.ts): why each removed part of the
 * stage's input went. A unit scored at least as high as the weakest kept
 * one was good enough but had no room ("over budget"); a lower one lost on
 * relevance ("not selected").
 */
function removalHints(doc: DistillDocument, decisions: Decisions): RemovalHint[] {
  const { sections, units, kept, keptUnits, duplicates, duplicateSet, noise } = decisions;
  const offsets = sectionOffsets(doc.value, sections);
  const keptIds = new Set(kept.map((section) => section.id));
  const chosen = new Set(keptUnits);
  const weakest = keptUnits.reduce((low, unit) => Math.min(low, unit.score), Infinity);
  const duplicateOf = new Map(duplicates.map((entry) => [entry.section, entry.of]));
  const hints: RemovalHint[] = [];
  sections.forEach((section, index) => {
    const offset = offsets[index]!;
    if (offset < 0) return;
    const whole = (reason: string) => hints.push({ start: offset, end: offset + section.text.length, reason });
    if (duplicateSet.has(index)) return whole(`sections:dedupe (repeats ${duplicateOf.get(section.id)})`);
    if (noise.has(index)) {
      const prior = doc.data.priors?.[section.id];
      const label = prior ? `${prior.label}, by ${prior.origin}` : `${doc.data.labels?.[section.id]?.label}, by the classifier`;
      return whole(`sections:noise (${label}; no word of the task)`);
    }
    const sectionUnits = units[index] ?? [];
    if (!keptIds.has(section.id) && sectionUnits.length === 0) return whole('not selected');
    for (const unit of sectionUnits) {
      if (chosen.has(unit)) continue;
      const reason = unit.score >= weakest ? `over budget (score ${unit.score.toFixed(2)})` : `not selected (score ${unit.score.toFixed(2)})`;
      hints.push({ start: offset + unit.start, end: offset + unit.end, reason });
    }
  });
  return hints;
}

const knownOptions = ['budget', 'ratio', 'granularity', 'keepHeadings', 'dedupe', 'dedupeThreshold', 'labelWeights', 'weights', 'relevanceModel', 'allowRemoteModels', 'rerankWeight'];

/**
 * Whether a task-independent stage called this section noise that no budget
 * need keep when it shares nothing with the task: a regex prior, or a
 * classifier noise label it was sure of. Quoted text is never such noise:
 * a reply's quote is often the question the task asks about, in words of
 * its own.
 */
function isNoise(doc: DistillDocument, id: string): boolean {
  const prior = doc.data.priors?.[id];
  if (prior) return prior.label !== 'quoted';
  const label = doc.data.labels?.[id];
  return label !== undefined && label.label !== 'quoted' && isNoiseLabel(label.label) && label.score >= 0.8;
}

interface Settings {
  budget: number | undefined;
  granularity: 'sentence' | 'section';
  keepHeadings: boolean;
  dedupe: 'run' | 'document' | 'off';
  dedupeThreshold: number;
  ratio: number | undefined;
  relevanceModel: string | false;
  allowRemoteModels: boolean;
  rerankWeight: number;
  labelWeights: Record<string, number>;
  weights: ScoreWeights;
}

function validate(options: SelectSectionsOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { budget, ratio, granularity = 'sentence', keepHeadings = true, dedupe = 'run', dedupeThreshold = 0.8, labelWeights = {}, weights = {} } = options;
  const { relevanceModel = false, allowRemoteModels = false, rerankWeight = 0.5 } = options;
  for (const key of Object.keys(options)) if (!knownOptions.includes(key)) throw unknownOption(key, knownOptions);
  if (budget !== undefined && !(Number.isInteger(budget) && budget > 0)) throw invalidOption('budget', 'a positive integer', budget);
  if (granularity !== 'sentence' && granularity !== 'section') throw invalidOption('granularity', '`sentence` or `section`', granularity);
  if (typeof keepHeadings !== 'boolean') throw invalidOption('keepHeadings', 'a boolean', keepHeadings);
  if (dedupe !== 'run' && dedupe !== 'document' && dedupe !== 'off') throw invalidOption('dedupe', '`run`, `document` or `off`', dedupe);
  if (typeof dedupeThreshold !== 'number' || !(dedupeThreshold > 0 && dedupeThreshold <= 1)) throw invalidOption('dedupeThreshold', 'a number in (0, 1]', dedupeThreshold);
  if (ratio !== undefined && (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1))) throw invalidOption('ratio', 'a number in (0, 1]', ratio);
  if (relevanceModel !== false && (typeof relevanceModel !== 'string' || relevanceModel.trim() === '')) throw invalidOption('relevanceModel', 'a model folder, a hub id, or `false`', relevanceModel);
  if (typeof allowRemoteModels !== 'boolean') throw invalidOption('allowRemoteModels', 'a boolean', allowRemoteModels);
  if (typeof rerankWeight !== 'number' || !(rerankWeight >= 0 && rerankWeight <= 1)) throw invalidOption('rerankWeight', 'a number from 0 to 1', rerankWeight);
  if (typeof labelWeights !== 'object' || labelWeights === null || Array.isArray(labelWeights)) throw invalidOption('labelWeights', 'an object of label → number', labelWeights);
  for (const [label, weight] of Object.entries(labelWeights)) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw invalidOption(`labelWeights.${label}`, 'a non-negative number', weight);
  }
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) throw invalidOption('weights', 'an object', weights);
  const merged: ScoreWeights = { ...defaultWeights };
  for (const [name, weight] of Object.entries(weights)) {
    if (!(name in defaultWeights)) throw invalidOption(`weights.${name}`, `one of ${Object.keys(defaultWeights).join(', ')}`, name);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw invalidOption(`weights.${name}`, 'a non-negative number', weight);
    merged[name as keyof ScoreWeights] = weight;
  }
  return { budget, granularity, keepHeadings, dedupe, dedupeThreshold, ratio, relevanceModel, allowRemoteModels, rerankWeight, labelWeights: { ...labelWeights }, weights: merged };
}
