import { isBlank, maxFurnitureLine, replaceCounting, unchanged, type RegexRule, type RuleResult } from './engine.js';

/**
 * Page furniture: what a printer adds to every page (numbers, running
 * headers and footers) and what a transcript adds to a speech (audience
 * reactions, print page markers). None of it is something the author said.
 */

/** How many non-blank lines at the top and the bottom of a page count as its header and footer zone. */
const zoneLines = 3;

const pageNumberOnly = /^[ \t]*(?:(?:page|p\.|pg\.?)[ \t]*)?\d{1,4}(?:[ \t]*(?:of|\/)[ \t]*\d{1,4})?[ \t]*$|^[ \t]*[-–—][ \t]*\d{1,4}[ \t]*[-–—][ \t]*$|^[ \t]*[ivxlcdm]{1,7}[ \t]*$/i;
/** Outside a paged document, only numbers that say they are page numbers. */
const explicitPageNumber = /^[ \t]*(?:page[ \t]+\d{1,4}(?:[ \t]+of[ \t]+\d{1,4})?|[-–—][ \t]*\d{1,4}[ \t]*[-–—])[ \t]*$/i;

/** Indices of the non-blank lines in the header and footer zones of one page. */
function zoneIndices(lines: readonly string[], start: number, end: number): number[] {
  if (start >= end) return [];
  const top: number[] = [];
  for (let index = start; index < end && top.length < zoneLines; index++) if (!isBlank(lines[index]!)) top.push(index);
  const bottom: number[] = [];
  for (let index = end - 1; index >= start && bottom.length < zoneLines; index--) if (!isBlank(lines[index]!)) bottom.push(index);
  // On a short page the two zones overlap.
  for (const index of bottom) if (!top.includes(index)) top.push(index);
  return top;
}

/** The pages of a form-feed separated text, as line ranges over one line array (form feeds stay in place). */
function pagesOf(text: string): { lines: string[]; pages: Array<[number, number]> } {
  // Give every form feed its own line so page boundaries are line boundaries.
  const lines = text.replace(/\f/g, '\n\f\n').split('\n');
  const pages: Array<[number, number]> = [];
  let start = 0;
  for (let index = 0; index <= lines.length; index++) {
    if (index === lines.length || lines[index] === '\f') {
      pages.push([start, index]);
      start = index + 1;
    }
  }
  return { lines, pages };
}

function joinPages(lines: readonly (string | undefined)[]): string {
  return lines
    .filter((line): line is string => line !== undefined)
    .join('\n')
    // Blank lines a removed header or number leaves at a page edge go too.
    .replace(/\n*\f\n*/g, '\f');
}

function removePageNumbers(text: string, paged: boolean): RuleResult {
  if (!paged) {
    const lines = text.split('\n');
    let hits = 0;
    const kept = lines.filter((line) => {
      const hit = line.length <= 40 && explicitPageNumber.test(line);
      if (hit) hits++;
      return !hit;
    });
    return hits === 0 ? unchanged(text) : { text: kept.join('\n'), hits };
  }
  const { lines, pages } = pagesOf(text);
  const out: (string | undefined)[] = [...lines];
  let hits = 0;
  for (const [start, end] of pages) {
    for (const index of zoneIndices(lines, start, end)) {
      const line = lines[index]!;
      if (line.length <= 40 && pageNumberOnly.test(line)) {
        out[index] = undefined;
        hits++;
      }
    }
  }
  return hits === 0 ? unchanged(text) : { text: joinPages(out), hits };
}

/** Digits vary from page to page in a running header ("Page 3", "Chapter 2"), so they do not count for "the same line". */
function furnitureKey(line: string): string {
  return line.trim().replace(/\d+/g, '#').replace(/\s+/g, ' ').toLowerCase();
}

function removeRunningHeaders(text: string): RuleResult {
  const { lines, pages } = pagesOf(text);
  // Two pages are too few to tell a running header from a repeated table heading.
  if (pages.length < 3) return unchanged(text);
  const pagesByKey = new Map<string, Set<number>>();
  const zones = pages.map(([start, end]) => zoneIndices(lines, start, end));
  zones.forEach((zone, page) => {
    for (const index of zone) {
      const line = lines[index]!;
      if (line.length > maxFurnitureLine / 2) continue;
      const key = furnitureKey(line);
      if (key.length === 0 || key === '#') continue;
      let seen = pagesByKey.get(key);
      if (!seen) pagesByKey.set(key, (seen = new Set()));
      seen.add(page);
    }
  });
  const out: (string | undefined)[] = [...lines];
  let hits = 0;
  const firstKept = new Set<string>();
  zones.forEach((zone) => {
    for (const index of zone) {
      const key = furnitureKey(lines[index]!);
      if ((pagesByKey.get(key)?.size ?? 0) < 2) continue;
      // The first occurrence stays: it may be the only place the title or a chapter name is written.
      if (!firstKept.has(key)) {
        firstKept.add(key);
        continue;
      }
      out[index] = undefined;
      hits++;
    }
  });
  return hits === 0 ? unchanged(text) : { text: joinPages(out), hits };
}

const reaction = '(?:applause|laughter|cheers|cheering|boos|booing|inaudible|crosstalk|music|standing ovation)';
/** "(Applause.)", "[Laughter]", "(Cheers and applause.)", "(applause)"; at most three reactions in one marker. */
const audienceMarker = `[\\[(]${reaction}(?:,? (?:and )?${reaction}){0,2}\\.?[\\])]`;
const dashedMarker = new RegExp(`—${audienceMarker}—`, 'gi');
const spacedMarker = new RegExp(`${audienceMarker}(?: (?=\\S))?`, 'gi');
/** Print page markers inside transcripts: "[p.8]", "[page 12]". */
const pageMarker = /\[(?:p|pp|page)\.? ?\d{1,4}\](?: (?=\S))?/gi;

export const furnitureRules: readonly RegexRule[] = [
  {
    name: 'regex:furniture-page-numbers',
    family: 'furniture',
    description: 'page numbers: number-only lines at the top or bottom of a page, and "Page 3 of 10" lines',
    apply: (text, environment) => removePageNumbers(text, environment.paged),
  },
  {
    name: 'regex:furniture-running-headers',
    family: 'furniture',
    description: 'running headers and footers: lines repeated at the top or bottom of several pages (first one kept)',
    appliesTo: (environment) => environment.paged,
    apply: (text) => removeRunningHeaders(text),
  },
  {
    name: 'regex:furniture-audience-markers',
    family: 'furniture',
    description: 'transcript reactions such as "(Applause.)", "[Laughter]", "—(applause)—"',
    hint: /[[(](?:applause|laughter|cheer|boo|inaudible|crosstalk|music|standing)/i,
    apply: (text) => {
      const dashed = replaceCounting(text, dashedMarker, '—');
      const spaced = replaceCounting(dashed.text, spacedMarker, '');
      return { text: spaced.text, hits: dashed.hits + spaced.hits };
    },
  },
  {
    name: 'regex:furniture-page-markers',
    family: 'furniture',
    description: 'print page markers inside running text, such as "[p.8]"',
    hint: /\[(?:p|pp|page)\b/i,
    apply: (text) => replaceCounting(text, pageMarker, ''),
  },
];
