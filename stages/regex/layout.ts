import { maxFurnitureLine, removeLines, replaceCounting, unchanged, type RegexRule, type RuleResult } from './engine.js';

/**
 * Layout: whitespace that carries no meaning for a model. Paragraph breaks
 * (one blank line) and page breaks (form feeds) are kept, because the
 * sectioniser cuts on them.
 */

const isTrailingSpace = (code: number) => code === 32 || code === 9 || code === 13 || code === 0xa0;

/**
 * Line by line, scanning back from each line's end: a regex for "spaces at
 * the end" retries at every space of an inner run and goes quadratic.
 */
function removeTrailingWhitespace(text: string): RuleResult {
  const lines = text.split('\n');
  let hits = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    let end = line.length;
    while (end > 0 && isTrailingSpace(line.charCodeAt(end - 1))) end--;
    if (end < line.length) {
      lines[index] = line.slice(0, end);
      hits++;
    }
  }
  return hits === 0 ? unchanged(text) : { text: lines.join('\n'), hits };
}
/** Blank lines at the very end, at the very start, or three and more line breaks in a row. */
const blankLineRuns = /\n+$|^\n+|\n{3,}/g;
const innerSpaceRuns = /(?<=\S)[ \t\u00a0]{2,}(?=\S)/g;
const hyphenatedBreak = /(?<=\p{Ll}\p{Ll})-\n(?=\p{Ll})/gu;
/** Dot leaders then a page number (arabic or roman) at the end of the line. */
const dotLeader = /(?<![. ])(?: ?\.){4,} *(?:\d{1,4}|[ivxlc]{1,6})$/i;

export const layoutRules: readonly RegexRule[] = [
  {
    name: 'regex:layout-trailing-whitespace',
    family: 'layout',
    description: 'spaces and tabs at the end of lines (whitespace-only lines become empty)',
    apply: removeTrailingWhitespace,
  },
  {
    name: 'regex:layout-hyphenation',
    family: 'layout',
    description: 'words hyphenated across a line break, rejoined ("exam-\\nple" becomes "example")',
    // Hand-typed mail does not hyphenate at line ends; there a "-\n" is a dash or an option list.
    appliesTo: (environment) => !environment.email,
    apply: (text) => replaceCounting(text, hyphenatedBreak, ''),
  },
  {
    name: 'regex:layout-toc-leaders',
    family: 'layout',
    description: 'table-of-contents lines with dot leaders and a page number ("Introduction . . . . 1")',
    hint: /\. ?\. ?\. ?\./,
    apply: (text) => removeLines(text, (line) => line.length <= maxFurnitureLine && dotLeader.test(line)),
  },
  {
    name: 'regex:layout-spaces',
    family: 'layout',
    description: 'runs of spaces and tabs inside a line, collapsed to one space (indentation is kept)',
    apply: (text) => replaceCounting(text, innerSpaceRuns, ' '),
  },
  {
    name: 'regex:layout-blank-lines',
    family: 'layout',
    description: 'runs of blank lines, collapsed to one blank line',
    apply: (text) => {
      let hits = 0;
      const out = text.replace(blankLineRuns, (run: string, offset: number) => {
        const atEdge = offset === 0 || offset + run.length === text.length;
        const replacement = atEdge ? '' : '\n\n';
        if (replacement !== run) hits++;
        return replacement;
      });
      return hits === 0 ? { text, hits } : { text: out, hits };
    },
  },
];
