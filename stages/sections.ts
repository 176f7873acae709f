import type { DistillDocument, RuleSaving, Section } from '../src/document.js';
import { invalidOption } from '../src/errors.js';
import { renderSections, sectionsOf, setSections } from '../src/sections.js';
import type { Stage, StageContext } from '../src/stage.js';
import { taskEntityWants } from './entities/task.js';
import { shinglesOf, ShingleIndex } from './sections/dedupe.js';
import { defaultWeights, scoreUnits, type ScoreWeights } from './sections/score.js';
import { adaptiveBudget, pack } from './sections/select.js';
import { outline, type Unit } from './sections/units.js';

/**
 * Task-aware section selection under an exact token budget: the stage that
 * decides what GPT-4o sees. Sections (and the sentences of long ones) are
 * scored against the task, near duplicates are kept once (also across the
 * documents of a run), and the best are kept in their original order,
 * verbatim, with their headings, until the o200k count of the final text
 * reaches the budget. It is never exceeded.
 */
export interface SelectSectionsOptions {
  /** Token budget when the run gives none (`context.budget`, from `--budget`, wins). Without either, an adaptive cut. */
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
   * @default 'run'
   */
  dedupe?: 'run' | 'document' | 'off';
  /** Share of a section's word shingles already seen that makes it a duplicate. @default 0.8 */
  dedupeThreshold?: number;
  /** With no budget, the most of a document the adaptive cut keeps. @default 0.5 */
  maxShare?: number;
  /**
   * Score multipliers by classifier label, over the built-in ones (noise-like
   * labels such as `navigation`, `legal`, `signature` are down-weighted by their score).
   * @example { "legal": 0, "pricing": 1.5 }
   */
  labelWeights?: Record<string, number>;
  /** Scoring weights; see `ScoreWeights`. */
  weights?: Partial<ScoreWeights>;
}

/** What the stage records on `doc.data.selection` (and the output record). */
export interface SelectionRecord {
  budget: number | null;
  /** How the cut was made: `fits` (nothing to cut), `budget`, or `adaptive` (no budget given). */
  cut: 'fits' | 'budget' | 'adaptive';
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

/** Below this many tokens, the adaptive cut (no budget) keeps the document whole. */
const adaptiveMinimumTokens = 300;

export function selectSections(options: SelectSectionsOptions = {}): Stage {
  const settings = validate(options);
  const runIndex = new ShingleIndex();

  return {
    name: 'sections',
    run(doc: DistillDocument, context: StageContext) {
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
        labelWeights: settings.labelWeights,
        weights: settings.weights,
      });

      const savings: RuleSaving[] = [];
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

      // Without a budget a short document is left whole: cutting it saves little and risks the answer.
      if (budget !== undefined ? dedupedTokens <= budget : dedupedTokens <= adaptiveMinimumTokens) {
        cut = 'fits';
        kept = withoutDuplicates;
        keptUnits = shape.units.filter((_, index) => !duplicateSet.has(index)).flat();
        tokensKept = dedupedTokens;
      } else {
        const all = shape.units.filter((_, index) => !duplicateSet.has(index)).flat();
        // Zero-score units carry nothing the task asked for: never spend budget on them while something scores.
        const candidates = (lexical ? all.filter((unit) => unit.score > 0) : all).sort(
          (left, right) => right.score - left.score || left.section - right.section || left.position - right.position,
        );
        cut = budget === undefined ? 'adaptive' : 'budget';
        const limit = budget ?? adaptiveBudget(candidates, dedupedTokens, settings.maxShare);
        const packed = pack(shape, candidates, limit, tokenizer, settings.keepHeadings);
        kept = packed.sections;
        keptUnits = packed.units;
        tokensKept = packed.tokens;
        savings.push({ rule: cut === 'budget' ? 'sections:budget' : 'sections:relevance', hits: all.length - packed.units.length, tokensRemoved: dedupedTokens - packed.tokens });
        if (packed.units.length === 0 && all.length > 0 && candidates.length === 0) {
          // Something matched the task (so `lexical`), and all of it was a near duplicate: say so, not "too big".
          doc.message('every sentence that matches the task repeats text kept earlier in the run; nothing new is left to send', 'sections:dedupe', {
            fix: 'set `stages.sections.dedupe` to `document` to keep documents independent',
          });
        } else if (packed.units.length === 0 && all.length > 0) {
          doc.message(`no sentence fits the budget of ${limit} tokens; the distilled text is empty`, 'sections:budget', {
            fix: 'raise --budget, or split the document',
          });
        }
      }

      // A document that fits as it is stays byte for byte as it is (re-rendering would normalise its blank lines).
      if (!(cut === 'fits' && duplicates.length === 0)) setSections(doc, kept);
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

interface Settings {
  budget: number | undefined;
  granularity: 'sentence' | 'section';
  keepHeadings: boolean;
  dedupe: 'run' | 'document' | 'off';
  dedupeThreshold: number;
  maxShare: number;
  labelWeights: Record<string, number>;
  weights: ScoreWeights;
}

function validate(options: SelectSectionsOptions): Settings {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { budget, granularity = 'sentence', keepHeadings = true, dedupe = 'run', dedupeThreshold = 0.8, maxShare = 0.5, labelWeights = {}, weights = {} } = options;
  if (budget !== undefined && !(Number.isInteger(budget) && budget > 0)) throw invalidOption('budget', 'a positive integer', budget);
  if (granularity !== 'sentence' && granularity !== 'section') throw invalidOption('granularity', '`sentence` or `section`', granularity);
  if (typeof keepHeadings !== 'boolean') throw invalidOption('keepHeadings', 'a boolean', keepHeadings);
  if (dedupe !== 'run' && dedupe !== 'document' && dedupe !== 'off') throw invalidOption('dedupe', '`run`, `document` or `off`', dedupe);
  if (typeof dedupeThreshold !== 'number' || !(dedupeThreshold > 0 && dedupeThreshold <= 1)) throw invalidOption('dedupeThreshold', 'a number in (0, 1]', dedupeThreshold);
  if (typeof maxShare !== 'number' || !(maxShare > 0 && maxShare <= 1)) throw invalidOption('maxShare', 'a number in (0, 1]', maxShare);
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
  return { budget, granularity, keepHeadings, dedupe, dedupeThreshold, maxShare, labelWeights: { ...labelWeights }, weights: merged };
}
