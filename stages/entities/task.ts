import type { Entity } from '../../src/document.js';

/**
 * What a task asks for, in entity terms, so section selection can boost the
 * sections that hold it. Deliberately a cheap lexical reading of the task
 * (no compromise here): the sections stage calls it once per run on a short
 * string, and loading an NLP model in the main thread just for that would
 * cost more than the whole lookup.
 */
export interface TaskEntityWants {
  /** Entity types the task asks for, in a stable order, without duplicates. */
  types: Entity['type'][];
  /** Names the task mentions (capitalised phrases, acronyms, quoted phrases), as written in the task. */
  names: string[];
}

/** Cue phrases for each entity type; matched as whole words, case-insensitively. */
const typeCues: readonly (readonly [RegExp, readonly Entity['type'][]])[] = [
  [/\bhow\s+(?:much|expensive|costly)\b|\bwhat\s+(?:figures?|amounts?|numbers?|sums?)\b|\bcosts?\b|\bprices?\b|\bpric(?:ed|ing)\b|\bspend(?:ing|s)?\b|\bspent\b|\bbudgets?\b|\bfunding\b|\brevenues?\b|\bdollars?\b|\bfees?\b|\bsalar(?:y|ies)\b|\bpaid\b|\bpay(?:ment)?s?\b|\bamounts?\b|\bfigures?\b|\bmoney\b/i, ['money', 'percent', 'number']],
  [/\bhow\s+many\b|\bnumbers?\b|\bcounts?\b|\bstatistics?\b|\bstats\b|\bquantit(?:y|ies)\b|\btotals?\b/i, ['number', 'percent']],
  [/\bpercent(?:age)?s?\b|%|\brates?\b|\bshares?\b|\bgrowth\b|\bratios?\b/i, ['percent', 'number']],
  [/\bwhen\b|\bdeadlines?\b|\bdates?\b|\bdated\b|\btime(?:line|table)?s?\b|\bschedul(?:e|ed|es)\b|\bdue\b|\bwhat\s+year\b|\byears?\b|\bby\s+when\b/i, ['date']],
  [/\bwho(?:m|se)?\b|\bpeople\b|\bpersons?\b|\bnames?\b|\bspeakers?\b|\bauthors?\b|\bsenders?\b|\brecipients?\b/i, ['person', 'organization']],
  [/\b(?:which|what)\s+(?:compan(?:y|ies)|organi[sz]ations?|agenc(?:y|ies)|firms?|groups?)\b|\bcompan(?:y|ies)\b|\borgani[sz]ations?\b|\bagenc(?:y|ies)\b/i, ['organization']],
  [/\bwhere\b|\bplaces?\b|\blocations?\b|\bcountr(?:y|ies)\b|\bcit(?:y|ies)\b|\bstates?\b|\bregions?\b/i, ['place']],
  [/\be-?mails?\s+(?:address(?:es)?)\b|\bemail\s+addresses\b|\baddress(?:es)?\b/i, ['email']],
  [/\burls?\b|\blinks?\b|\bwebsites?\b|\bweb\s+sites?\b|\bweb\s+pages?\b/i, ['url']],
  [/\bphones?\b|\btelephone\b|\bcall\b|\bfax\b|\bcontact\s+(?:numbers?|details)\b/i, ['phone']],
];

/** Order of `types` in the answer, so callers and tests see a stable list. */
const typeOrder: readonly Entity['type'][] = ['money', 'percent', 'number', 'date', 'person', 'organization', 'place', 'email', 'url', 'phone'];

/**
 * Capitalised words that open or frame a task without naming anything
 * ("What did Lincoln say", "Summarize the ..."), so they are not read as names.
 */
const notNames = new Set(
  [
    'a', 'an', 'the', 'this', 'that', 'these', 'those', 'what', 'when', 'who', 'whom', 'whose', 'where', 'which', 'why', 'how',
    'is', 'are', 'was', 'were', 'do', 'does', 'did', 'can', 'could', 'would', 'should', 'will', 'has', 'have', 'had',
    'list', 'find', 'give', 'show', 'tell', 'name', 'summarize', 'summarise', 'summary', 'extract', 'explain', 'describe',
    'identify', 'compare', 'answer', 'return', 'please', 'according', 'in', 'on', 'at', 'for', 'from', 'to', 'of', 'by',
    'and', 'or', 'if', 'i', 'we', 'you', 'they', 'he', 'she', 'it', 'my', 'our', 'your', 'their', 'all', 'any', 'each',
    'every', 'document', 'documents', 'email', 'emails', 'text', 'speech', 'section', 'sections', 'note', 'based',
    'also', 'only', 'include', 'including', 'then', 'after', 'before', 'during', 'between', 'with', 'without', 'about',
  ],
);

/** Lower-case joiners allowed inside a name ("Bank of America", "Department of State"). */
const nameJoiners = new Set(['of', 'de', 'la', 'van', 'von', 'der', 'du', 'del', '&']);

/**
 * The entity types and names a task asks for.
 *
 * @example
 * taskEntityWants('How much did the Department of Defense spend?')
 * // { types: ['money', 'percent', 'number'], names: ['Department of Defense'] }
 */
export function taskEntityWants(task: string): TaskEntityWants {
  const wanted = new Set<Entity['type']>();
  for (const [cue, types] of typeCues) {
    if (cue.test(task)) for (const type of types) wanted.add(type);
  }
  return { types: typeOrder.filter((type) => wanted.has(type)), names: namesIn(task) };
}

/** Quoted phrases, then capitalised phrases and acronyms, in order of first appearance, without duplicates. */
function namesIn(task: string): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  const add = (name: string) => {
    const trimmed = name.trim().replace(/[.,;:!?'’]+$/, '').replace(/(?:'s|’s)$/, '');
    const key = trimmed.toLowerCase();
    if (trimmed.length < 2 || seen.has(key) || notNames.has(key)) return;
    seen.add(key);
    names.push(trimmed);
  };

  const quoted = /["“']([^"“”']{2,80})["”']/g;
  for (const match of task.matchAll(quoted)) add(match[1]!);
  const unquoted = task.replace(quoted, ' ');

  const tokens = [...unquoted.matchAll(/[\p{L}\p{N}][\p{L}\p{N}.&'’-]*/gu)];
  let run: { word: string; start: number; end: number }[] = [];
  const flush = () => {
    // A run may not end on a joiner ("Bank of").
    while (run.length > 0 && nameJoiners.has(run.at(-1)!.word.toLowerCase())) run.pop();
    if (run.length > 0) add(unquoted.slice(run[0]!.start, run.at(-1)!.end));
    run = [];
  };
  for (const token of tokens) {
    const word = token[0].replace(/[.'’]+$/, '');
    const start = token.index;
    const end = start + word.length;
    // Punctuation between words ends a name ("Lincoln, Grant" are two names).
    if (run.length > 0 && /\S/.test(unquoted.slice(run.at(-1)!.end, start))) flush();
    // A sentence's first word is capitalised whatever it is ("Make a list", "Walk me through"): alone it names nothing.
    const opensSentence = run.length === 0 && /(?:^|[.?!:;]\s*|\n\s*)$/.test(unquoted.slice(0, start)) && !/^\p{Lu}[\p{L}\p{N}.&'’-]*\s+\p{Lu}/u.test(unquoted.slice(start));
    const capitalised = /^\p{Lu}/u.test(word) && !notNames.has(word.toLowerCase()) && !opensSentence;
    const acronym = /^\p{Lu}{2,}\d*$/u.test(word);
    if (capitalised || acronym) {
      run.push({ word, start, end });
    } else if (run.length > 0 && nameJoiners.has(word.toLowerCase())) {
      run.push({ word, start, end });
    } else {
      flush();
    }
  }
  flush();
  return names;
}
