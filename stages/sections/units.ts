import type { Section } from '../../src/document.js';
import { sentenceSpans, type Span } from '../../src/sections.js';
import type { Tokenizer } from '../../src/tokens.js';
import { terms } from './analyze.js';

/**
 * The units selection chooses from: sentences of prose sections, lines of
 * lists and tables, whole code blocks. Every unit is a span of its
 * section's text, so whatever is kept is a verbatim slice of the input.
 */
export interface Unit {
  /** Index into the section list. */
  section: number;
  /** Position among its section's units. */
  position: number;
  start: number;
  end: number;
  text: string;
  terms: string[];
  /** Exact o200k count of `text`. */
  readonly tokens: number;
  score: number;
  /** Whether the unit, its section or its headings share a term with the task (set by scoring). */
  matched?: boolean;
}

export interface Outline {
  sections: readonly Section[];
  /** For each section, the indices of the heading sections above it, outermost first. */
  ancestors: number[][];
  /** Units by section (empty for heading sections). */
  units: Unit[][];
}

/** Units longer than this many characters are cut further (run-on lines), so something always fits a small budget. */
export const maxUnitChars = 600;

export function outline(sections: readonly Section[], tokenizer: Tokenizer, granularity: 'sentence' | 'section', budget: number | undefined): Outline {
  const ancestors: number[][] = [];
  const stack: number[] = [];
  const units: Unit[][] = [];
  for (let index = 0; index < sections.length; index++) {
    const section = sections[index]!;
    if (section.kind === 'heading') {
      // A heading's own `headings` are the titles above it, so its depth is their count.
      stack.length = Math.min(stack.length, section.headings.length);
      ancestors.push(stack.slice());
      stack.push(index);
      units.push([]);
      continue;
    }
    ancestors.push(stack.slice(0, section.headings.length));
    units.push(unitsOf(section, index, tokenizer, granularity, budget));
  }
  return { sections, ancestors, units };
}

function unitsOf(section: Section, index: number, tokenizer: Tokenizer, granularity: 'sentence' | 'section', budget: number | undefined): Unit[] {
  const text = section.text;
  let spans: Span[];
  if (granularity === 'section') {
    const tokens = tokenizer.count(text);
    spans = budget !== undefined && tokens > budget ? sentenceSpans(text, maxUnitChars) : [{ start: 0, end: text.length }];
  } else if (section.kind === 'table' || section.kind === 'list') {
    spans = lineSpans(text);
  } else if (section.kind === 'code' && text.length <= maxUnitChars) {
    spans = [{ start: 0, end: text.length }];
  } else {
    spans = sentenceSpans(text, maxUnitChars);
  }
  return spans.map((span, position) => {
    const unitText = text.slice(span.start, span.end);
    let tokens: number | undefined;
    return {
      section: index,
      position,
      start: span.start,
      end: span.end,
      text: unitText,
      terms: terms(unitText),
      // Counted when packing first asks: units that score nothing are never candidates, and never counted.
      get tokens() {
        return (tokens ??= tokenizer.count(unitText));
      },
      score: 0,
    };
  });
}

function lineSpans(text: string): Span[] {
  const spans: Span[] = [];
  let start = 0;
  for (const line of text.split('\n')) {
    const end = start + line.length;
    if (line.trim().length > 0) {
      if (line.length > maxUnitChars) spans.push(...sentenceSpans(line, maxUnitChars).map((span) => ({ start: start + span.start, end: start + span.end })));
      else spans.push({ start, end });
    }
    start = end + 1;
  }
  return spans;
}
