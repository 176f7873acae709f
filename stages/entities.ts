import type { DistillDocument, Entity } from '../src/document.js';
import { invalidOption } from '../src/errors.js';
import { entitiesOptionsSchema, rejectUnknownOptions } from '../src/options.js';
import { sectionsOf } from '../src/sections.js';
import type { Stage } from '../src/stage.js';
import type { EntityType, FoundEntity } from './entities/extract.js';
import { locateSections, toDocumentOffset } from './entities/offsets.js';
import { findEmails, findPhones, findUrls } from './entities/patterns.js';
import { cuedRanges, findCheapEntities, planScope } from './entities/scope.js';
import { taskEntityWants } from './entities/task.js';
import { defaultWorkerCount, EntityWorkerError, InProcessBackend, WorkerPool, type EntityBackend, type ExtractJob } from './entities/pool.js';

export { taskEntityWants, type TaskEntityWants } from './entities/task.js';
export { EntityExtractionError, EntityWorkerError, InProcessBackend, WorkerPool, type EntityBackend, type ExtractJob } from './entities/pool.js';

/**
 * The entities stage: people, places, organisations, dates, money,
 * percentages and numbers with units ("40 miles", "3,000 soldiers"; a bare
 * number is not reported) from compromise + compromise-dates, and
 * e-mail addresses, URLs and phone numbers (exact patterns), per section of
 * the text that survived the earlier stages. It never changes `doc.value`.
 *
 * Output on the document:
 * - `doc.data.entities`: `{type, text, normalized?, section, start, end, documentStart?, documentEnd?}`.
 *   `start`/`end` index the section's text (`section` is its id), so
 *   `section.text.slice(start, end) === text`; `documentStart`/`documentEnd`
 *   index `doc.value` as this stage saw it (the text after the earlier stages).
 * - `doc.data.entityDigest`: counts by type and the most frequent names, the
 *   scope, and which sections the tagger read (`scanned`) and did not (`skipped`, with ids).
 *
 * With `scope: 'task'` (the default) the tagger reads only the sections the
 * sections stage can use entities for; see `ExtractEntitiesOptions.scope`.
 *
 * `normalized`, where it resolves: money `"13000000 USD"` (plain decimal amount,
 * a space, ISO 4217 code; `$` is USD); percent and number a JSON number;
 * date ISO 8601 as precise as the text (`"1976-07-04"`, `"1976-07"`, `"1976"`,
 * `"1990/1999"`). Relative dates resolve only against `referenceDate`.
 */

/** Every entity type, in the order the digest reports them. */
export const entityTypes: readonly EntityType[] = ['person', 'organization', 'place', 'date', 'money', 'percent', 'number', 'email', 'url', 'phone'];

/** Which sections compromise reads: every one, or only those the task could use. */
export type EntityScope = 'all' | 'task';

export const entityScopes: readonly EntityScope[] = ['all', 'task'];

export interface ExtractEntitiesOptions {
  /**
   * Which sections the compromise tagger reads. `'all'`: every section.
   * `'task'`: only the sections the sections stage can use entities for
   * (those sharing a stemmed term with `context.task`, and those holding a
   * cheap cue for the entity types the task asks for), best first, up to
   * `scopeBudgetFactor × context.budget` tokens; and inside those, when the
   * task asks for entity types, only the sentences holding a cue for one of
   * them (a currency, a digit, a number word, a month, a capitalised word...).
   * There the tagger looks only for the types the task asks for (each other
   * type costs another pass, and the date parser a third more per parse),
   * or for every type when the task asks for none it finds.
   * Everything else gets only exact patterns (e-mail, URL, phone, money with
   * a currency, percentages, dates that name their year).
   * `entityDigest.scanned` (sections read, at least in part, and the
   * characters read) and `entityDigest.skipped` (sections not read) say which.
   * @default 'task'
   */
  scope?: EntityScope;
  /**
   * Under `scope: 'task'` with a budget, compromise reads at most this many
   * times `context.budget` tokens of candidate sections per document
   * (measured on all of SOTU at budget 1000, bench/entities.ts --scope,
   * with the sentence cues: factor 1 reads 0.22 MB of 10.76 and the
   * sections stage still selects 98.3% of the sentences it selects after
   * scope 'all'; factor 2 reads 0.45 MB for 99.1%. NQ answer recall, 300
   * questions, is 99.7% with either and with scope 'all').
   * @default 1
   */
  scopeBudgetFactor?: number;
  /**
   * Which entity types to extract; the tagger is skipped entirely when only
   * `email`/`url`/`phone` are asked for.
   * @default every type
   */
  types?: EntityType[];
  /**
   * Worker threads to spread extraction over; `0` runs it in the calling thread.
   * @default the number of cores (`os.availableParallelism()`), at least 1
   */
  workers?: number;
  /**
   * Characters of one section that are read; the rest of a longer section is
   * skipped with a warning, so one pathological block cannot stall the run.
   * @default 20000
   */
  maxChars?: number;
  /**
   * ISO date (`YYYY-MM-DD`) that relative dates ("next Friday", "last year")
   * resolve against. Without it only dates that name their year are normalised,
   * so the output does not depend on the day the run happens.
   */
  referenceDate?: string;
  /**
   * Heap limit of each worker thread in MB; a worker over it dies, and only
   * the document it was working on fails.
   * @default V8's default
   */
  workerMemoryMb?: number;
  /**
   * How many names (people, organisations, places) the digest lists.
   * @default 10
   */
  topNames?: number;
  /** Where extraction runs; by default a worker pool (or in-process for `workers: 0`). */
  backend?: EntityBackend;
}

/** An entity on the document: the record's `Entity` plus its offsets in the text the stage saw. */
export interface DocumentEntity extends Entity {
  documentStart?: number;
  documentEnd?: number;
}

export interface EntityDigest {
  total: number;
  /** The scope the stage ran with. */
  scope?: EntityScope;
  /** Sections the compromise tagger read, whole or in part, and the characters it read. */
  scanned?: { sections: number; chars: number };
  /**
   * Sections the tagger did not read (code blocks, and under `scope: 'task'`
   * the sections the task could not use), with their ids: only exact
   * patterns ran there.
   */
  skipped?: { sections: number; chars: number; ids: string[] };
  /** Entities per type; types with none are left out. */
  counts: Partial<Record<EntityType, number>>;
  /** The most mentioned people, organisations and places, most frequent first. */
  top: { type: EntityType; text: string; count: number }[];
}

declare module '../src/document.js' {
  interface DataMap {
    entityDigest?: EntityDigest;
  }
}

const defaultMaxChars = 20_000;
const defaultScopeBudgetFactor = 1;

/** Types that need the compromise tagger; kept in step with `taggerTypes` in extract.ts, which this module must not import (it loads compromise). */
const taggerTypes: ReadonlySet<EntityType> = new Set(['person', 'place', 'organization', 'date', 'money', 'percent', 'number']);

/**
 * Sections go to the backend in jobs of about this many characters: large
 * enough that messaging costs nothing next to tagging, small enough that one
 * long document still keeps every worker busy.
 */
const minJobChars = 4_000;
const maxJobChars = 64_000;

/**
 * Create the entities stage.
 *
 * @example
 * const stage = extractEntities({ types: ['money', 'date', 'person'], workers: 2 });
 * await stage.run(doc, context);
 * doc.data.entities; // [{ type: 'money', text: '$13 millions', normalized: '13000000 USD', section: 's0', start: 9, end: 21 }]
 * await stage.close();
 */
export function extractEntities(options: ExtractEntitiesOptions = {}): Stage {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
  rejectUnknownOptions(options, entitiesOptionsSchema);
  const types = validateTypes(options.types);
  const workers = options.workers ?? defaultWorkerCount();
  if (!Number.isInteger(workers) || workers < 0) throw invalidOption('workers', 'a non-negative integer', options.workers);
  const maxChars = options.maxChars ?? defaultMaxChars;
  if (!Number.isInteger(maxChars) || maxChars < 1) throw invalidOption('maxChars', 'a positive integer', options.maxChars);
  const referenceDate = options.referenceDate;
  if (referenceDate !== undefined && !isIsoDate(referenceDate)) throw invalidOption('referenceDate', 'an ISO date (YYYY-MM-DD)', referenceDate);
  const memoryMb = options.workerMemoryMb;
  if (memoryMb !== undefined && (!Number.isInteger(memoryMb) || memoryMb < 16)) throw invalidOption('workerMemoryMb', 'an integer of at least 16', memoryMb);
  const topNames = options.topNames ?? 10;
  if (!Number.isInteger(topNames) || topNames < 0) throw invalidOption('topNames', 'a non-negative integer', options.topNames);
  const scope = options.scope ?? 'task';
  if (!entityScopes.includes(scope)) throw invalidOption('scope', `one of ${entityScopes.map((name) => `'${name}'`).join(', ')}`, options.scope);
  const scopeBudgetFactor = options.scopeBudgetFactor ?? defaultScopeBudgetFactor;
  if (typeof scopeBudgetFactor !== 'number' || !Number.isFinite(scopeBudgetFactor) || scopeBudgetFactor <= 0) {
    throw invalidOption('scopeBudgetFactor', 'a positive number', options.scopeBudgetFactor);
  }
  const typeSet = new Set(types);
  const wantsTagger = types.some((type) => taggerTypes.has(type));
  const injected = options.backend;
  if (injected !== undefined && (injected === null || typeof injected !== 'object' || typeof injected.extract !== 'function')) {
    throw invalidOption('backend', 'an object with an `extract(job)` method', injected);
  }

  let backend: EntityBackend | undefined = injected;
  // Lazily: a run that never reaches this stage (all documents dropped) starts no threads.
  const getBackend = () => {
    backend ??= workers === 0 ? new InProcessBackend() : new WorkerPool({ size: workers, ...(memoryMb === undefined ? {} : { memoryMb }) });
    return backend;
  };

  return {
    name: 'entities',
    async run(doc, context) {
      const sections = sectionsOf(doc);
      const inputs: ExtractJob['sections'] = [];
      let truncated = 0;
      const plan = scope === 'task' ? planScope({ sections, task: context?.task ?? '', budget: context?.budget, budgetFactor: scopeBudgetFactor }) : undefined;
      // Inside the sections it reads, the tagger reads only the sentences with a cue for a type the task asks for.
      const cueTypes = plan === undefined ? [] : taskEntityWants(context?.task ?? '').types.filter((type) => typeSet.has(type) && taggerTypes.has(type));
      // And there it looks only for those types: each other view costs another pass of matches, and the date
      // parser adds about a third to every parse. With no such type asked for, it looks for every type.
      const taggerReads = cueTypes.length > 0 ? types.filter((type) => cueTypes.includes(type) || !taggerTypes.has(type)) : types;
      const taggerLooked = new Set(taggerReads.filter((type) => taggerTypes.has(type)));
      const notLooked = new Set(types.filter((type) => !taggerLooked.has(type)));
      const scanned = { sections: 0, chars: 0 };
      const skipped = { sections: 0, chars: 0, ids: [] as string[] };
      sections.forEach((section, index) => {
        let text = section.text;
        if (text.length > maxChars) {
          truncated++;
          // Cut at a space, so the last word read is a whole word and not a fragment posing as an entity.
          const space = text.lastIndexOf(' ', maxChars);
          text = text.slice(0, space > maxChars / 2 ? space : maxChars);
        }
        // Code blocks hold identifiers, not people or sums; only the exact patterns are worth running there.
        let tagger = section.kind !== 'code' && (plan === undefined || plan.scan[index] === true);
        const ranges = tagger && plan !== undefined ? cuedRanges(text, cueTypes) : undefined;
        if (ranges?.length === 0) tagger = false;
        inputs.push(ranges === undefined || !tagger ? { text, tagger } : { text, tagger, ranges });
        if (tagger) {
          scanned.sections++;
          scanned.chars += ranges === undefined ? text.length : ranges.reduce((sum, range) => sum + range.end - range.start, 0);
        } else {
          skipped.sections++;
          skipped.chars += section.text.length;
          skipped.ids.push(section.id);
        }
      });
      if (truncated > 0) {
        doc.message(`${truncated} section(s) longer than ${maxChars} characters: entities were read from the first ${maxChars} only`, 'entities:max-chars', {
          fix: 'Raise `maxChars` for the entities stage to read them whole.',
        });
      }

      let results: FoundEntity[][];
      try {
        const jobs = chunk(inputs, getBackend() instanceof WorkerPool ? (getBackend() as WorkerPool).size : 1);
        const answers = await Promise.all(
          jobs.map((job) => getBackend().extract({ sections: job, types: taggerReads, ...(referenceDate === undefined ? {} : { referenceDate }) })),
        );
        results = answers.flat();
      } catch (error) {
        const code = error instanceof EntityWorkerError || (error instanceof Error && 'code' in error) ? String((error as { code: unknown }).code) : 'E_ENTITY_EXTRACT';
        const fix = error instanceof EntityWorkerError ? error.fix : undefined;
        doc.fail(error instanceof Error ? error.message : String(error), 'entities:worker', { code, ...(fix === undefined ? {} : { fix }) });
        return;
      }

      if (plan !== undefined) {
        // What compromise did not read, or did not look for, still gets the amounts, percentages and dates exact
        // patterns can vouch for; where it read a part and looked for a type, its reading of that part stands.
        inputs.forEach((input, index) => {
          if (sections[index]!.kind === 'code') return;
          const found = results[index] ?? [];
          const exact = [...findEmails(input.text), ...findUrls(input.text), ...findPhones(input.text), ...found];
          const cheap = findCheapEntities(input.text, input.tagger ? notLooked : typeSet, exact);
          if (input.tagger && input.ranges !== undefined) cheap.push(...findCheapEntities(input.text, taggerLooked, [...exact, ...cheap, ...input.ranges]));
          if (cheap.length > 0) results[index] = [...found, ...cheap].sort((a, b) => a.start - b.start || b.end - a.end);
        });
      }

      const locations = locateSections(doc.value, sections.map((section) => section.text));
      const entities: DocumentEntity[] = [];
      sections.forEach((section, index) => {
        const location = locations[index];
        for (const found of results[index] ?? []) {
          // Keys in record order: what it is, then where it is.
          const entity: DocumentEntity = {
            type: found.type,
            text: found.text,
            ...(found.normalized === undefined ? {} : { normalized: found.normalized }),
            section: section.id,
            start: found.start,
            end: found.end,
          };
          if (location) {
            entity.documentStart = toDocumentOffset(location, found.start);
            entity.documentEnd = toDocumentOffset(location, found.end - 1) + 1;
          }
          entities.push(entity);
        }
      });
      doc.data.entities = entities;
      doc.data.entityDigest = {
        ...digest(entities, topNames),
        scope,
        // Without a tagger type asked for, the tagger reads nothing in any scope.
        scanned: wantsTagger ? scanned : { sections: 0, chars: 0 },
        skipped: wantsTagger ? skipped : { sections: sections.length, chars: sections.reduce((sum, section) => sum + section.text.length, 0), ids: sections.map((section) => section.id) },
      };
      return undefined;
    },
    async load() {
      // Only the in-process backend loads in this thread; a worker pool's threads load on their first job.
      if (wantsTagger) await getBackend().load?.();
    },
    async close() {
      // An injected backend belongs to the caller, who may share it between stages.
      if (backend && backend !== injected) await backend.close();
      backend = injected;
    },
  };
}

function validateTypes(types: unknown): EntityType[] {
  if (types === undefined) return [...entityTypes];
  if (!Array.isArray(types) || types.length === 0) throw invalidOption('types', `a non-empty array of ${entityTypes.join(', ')}`, types);
  for (const type of types) {
    if (!(entityTypes as readonly unknown[]).includes(type)) throw invalidOption('types', `a non-empty array of ${entityTypes.join(', ')}`, types);
  }
  return [...new Set(types as EntityType[])];
}

function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** Consecutive runs of sections of about equal size, at least one per worker when the document is long enough. */
function chunk(sections: ExtractJob['sections'], workers: number): ExtractJob['sections'][] {
  const total = sections.reduce((sum, section) => sum + section.text.length, 0);
  const target = Math.min(maxJobChars, Math.max(minJobChars, Math.ceil(total / workers)));
  const jobs: ExtractJob['sections'][] = [];
  let current: ExtractJob['sections'] = [];
  let size = 0;
  for (const section of sections) {
    if (current.length > 0 && size + section.text.length > target) {
      jobs.push(current);
      current = [];
      size = 0;
    }
    current.push(section);
    size += section.text.length;
  }
  if (current.length > 0 || jobs.length === 0) jobs.push(current);
  return jobs;
}

const nameTypes: ReadonlySet<EntityType> = new Set(['person', 'organization', 'place']);

function digest(entities: readonly Entity[], topNames: number): EntityDigest {
  const counts: Partial<Record<EntityType, number>> = {};
  const names = new Map<string, { type: EntityType; text: string; count: number; first: number }>();
  entities.forEach((entity, index) => {
    counts[entity.type] = (counts[entity.type] ?? 0) + 1;
    if (!nameTypes.has(entity.type)) return;
    const key = `${entity.type}:${entity.text.toLowerCase().replace(/\s+/g, ' ')}`;
    const entry = names.get(key);
    if (entry) entry.count++;
    else names.set(key, { type: entity.type, text: entity.text.replace(/\s+/g, ' '), count: 1, first: index });
  });
  const ordered: Partial<Record<EntityType, number>> = {};
  for (const type of entityTypes) if (counts[type] !== undefined) ordered[type] = counts[type];
  const top = [...names.values()]
    .sort((a, b) => b.count - a.count || a.first - b.first)
    .slice(0, topNames)
    .map(({ type, text, count }) => ({ type, text, count }));
  return { total: entities.length, counts: ordered, top };
}
