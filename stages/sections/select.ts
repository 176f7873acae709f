import type { Section } from '../../src/document.js';
import { isSentenceBoundary, renderSections } from '../../src/sections.js';
import type { Tokenizer } from '../../src/tokens.js';
import type { Outline, Unit } from './units.js';

/**
 * Packing units into an exact token budget. Token counts of joined pieces
 * are not quite additive (BPE merges across the joins), so packing uses an
 * estimate with a safety margin, then the final rendered string is counted
 * exactly and trimmed, lowest score first, until it fits. The budget is a
 * promise; the estimate is only a shortcut.
 */
export interface Packed {
  /** The kept sections, rendered (headings included), ids unchanged. */
  sections: Section[];
  text: string;
  /** Exact o200k count of `text`. */
  tokens: number;
  units: Unit[];
}

/** Exact recounts allowed for topping up after the trim; each is one tokenisation of at most `budget` tokens. */
const maxFillAttempts = 24;

export function pack(outline: Outline, candidates: readonly Unit[], budget: number, tokenizer: Tokenizer, keepHeadings: boolean): Packed {
  const chosen = new Set<Unit>();
  const headingTokens = new Map<number, number>();
  const headingCost = (index: number) => {
    let cost = headingTokens.get(index);
    if (cost === undefined) {
      cost = tokenizer.count(outline.sections[index]!.text) + 1;
      headingTokens.set(index, cost);
    }
    return cost;
  };
  const sectionsUsed = new Set<number>();
  const headingsUsed = new Set<number>();

  const costOf = (unit: Unit): number => {
    // One token for the joiner ("\n\n" or a space), and the unit's headings if they are not in yet.
    let cost = unit.tokens + (chosen.size > 0 ? 1 : 0);
    if (keepHeadings) for (const ancestor of outline.ancestors[unit.section]!) if (!headingsUsed.has(ancestor)) cost += headingCost(ancestor);
    return cost;
  };
  const take = (unit: Unit) => {
    chosen.add(unit);
    sectionsUsed.add(unit.section);
    if (keepHeadings) for (const ancestor of outline.ancestors[unit.section]!) headingsUsed.add(ancestor);
  };

  let estimate = 0;
  for (const unit of candidates) {
    // Past this point any unit costs at least its one token and a joiner: nothing more fits, and nothing need be counted.
    if (chosen.size > 0 && budget - estimate < 2) break;
    if (unit.tokens > budget) continue;
    const cost = costOf(unit);
    if (estimate + cost > budget) continue;
    take(unit);
    estimate += cost;
  }

  let rendered = render(outline, chosen, keepHeadings);
  let tokens = tokenizer.count(rendered.text);
  // Trim: drop the weakest unit until the exact count fits.
  if (tokens > budget) {
    const byScore = [...chosen].sort(weakestFirst);
    for (const unit of byScore) {
      chosen.delete(unit);
      rendered = render(outline, chosen, keepHeadings);
      tokens = tokenizer.count(rendered.text);
      if (tokens <= budget) break;
    }
  }
  // Top up: the estimate is conservative, so some of what it turned away may fit after all.
  let attempts = 0;
  const used = () => {
    sectionsUsed.clear();
    headingsUsed.clear();
    for (const unit of chosen) {
      sectionsUsed.add(unit.section);
      if (keepHeadings) for (const ancestor of outline.ancestors[unit.section]!) headingsUsed.add(ancestor);
    }
  };
  used();
  for (const unit of candidates) {
    if (attempts >= maxFillAttempts || tokens >= budget) break;
    if (chosen.has(unit) || unit.tokens > budget - tokens) continue;
    if (costOf(unit) - 1 > budget - tokens) continue;
    attempts++;
    chosen.add(unit);
    const next = render(outline, chosen, keepHeadings);
    const nextTokens = tokenizer.count(next.text);
    if (nextTokens <= budget) {
      rendered = next;
      tokens = nextTokens;
      take(unit);
    } else {
      chosen.delete(unit);
    }
  }

  return { sections: rendered.sections, text: rendered.text, tokens, units: [...chosen].sort(documentOrder) };
}

function weakestFirst(left: Unit, right: Unit): number {
  return left.score - right.score || right.section - left.section || right.position - left.position;
}

function documentOrder(left: Unit, right: Unit): number {
  return left.section - right.section || left.position - right.position;
}

/**
 * The kept units in document order, each section rendered from verbatim
 * slices: adjacent units keep the original text between them, a gap
 * becomes a space (or a line break where the text had one).
 */
export function render(outline: Outline, chosen: ReadonlySet<Unit>, keepHeadings: boolean): { sections: Section[]; text: string } {
  const bySection = new Map<number, Unit[]>();
  for (const unit of chosen) {
    const list = bySection.get(unit.section);
    if (list) list.push(unit);
    else bySection.set(unit.section, [unit]);
  }
  const indices = new Set<number>(bySection.keys());
  if (keepHeadings) for (const index of bySection.keys()) for (const ancestor of outline.ancestors[index]!) indices.add(ancestor);

  const sections: Section[] = [];
  for (const index of [...indices].sort((left, right) => left - right)) {
    const section = outline.sections[index]!;
    const units = bySection.get(index);
    if (!units) {
      sections.push(section);
      continue;
    }
    units.sort((left, right) => left.position - right.position);
    let text = '';
    let previous: Unit | undefined;
    for (const unit of units) {
      if (!previous) text = unit.text;
      else if (unit.position === previous.position + 1) text += section.text.slice(previous.end, unit.end);
      else text += joiner(previous.text, unit.text, section.text.slice(previous.end, unit.start)) + unit.text;
      previous = unit;
    }
    sections.push(text === section.text ? section : { ...section, text });
  }
  return { sections, text: renderSections(sections) };
}

/**
 * What goes between two kept units that were not adjacent: a space when the
 * pair still splits back into the two sentences; otherwise (fragments of a
 * run-on line, list lines) a blank line, so no "sentence" of the output is
 * two pieces of the input glued together.
 */
function joiner(left: string, right: string, gap: string): string {
  if (gap.includes('\n') && /[.!?:;"”)\]]$/.test(left)) return '\n';
  return isSentenceBoundary(left, right) ? ' ' : '\n\n';
}

/**
 * The order in which packing offers units to the budget: everything that
 * scores, best first; then, so the budget is spent while text remains, the
 * rest, nearest a scoring unit first (an answer's neighbours and its
 * section), then in document order. With no lexical match every unit
 * carries a centrality score and the order is by score alone.
 */
export function fillOrder(outline: Outline, units: readonly Unit[], lexical: boolean): Unit[] {
  const byScore = (left: Unit, right: Unit) => right.score - left.score || left.section - right.section || left.position - right.position;
  if (!lexical) return [...units].sort(byScore);
  const scoring = units.filter((unit) => unit.score > 0).sort(byScore);
  const distance = new Map<Unit, number>();
  for (const section of outline.units) {
    // Distance in units to the nearest scoring unit of the same section; sections with none come after.
    let last = -Infinity;
    for (const unit of section) {
      if (unit.score > 0) last = unit.position;
      distance.set(unit, unit.position - last);
    }
    last = Infinity;
    for (let index = section.length - 1; index >= 0; index--) {
      const unit = section[index]!;
      if (unit.score > 0) last = unit.position;
      distance.set(unit, Math.min(distance.get(unit)!, last - unit.position));
    }
  }
  const rest = units
    .filter((unit) => !(unit.score > 0))
    .sort((left, right) => distance.get(left)! - distance.get(right)! || left.section - right.section || left.position - right.position);
  return [...scoring, ...rest];
}
