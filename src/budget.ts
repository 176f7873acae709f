import type { DistillDocument } from './document.js';
import { sentenceSpans } from './sections.js';
import type { Tokenizer } from './tokens.js';

/**
 * The budget is a promise of the pipeline, not of one stage: whatever
 * stages ran, no distilled text leaves the local stages over it. The
 * sections stage keeps a budget by relevance; without it (`--stages
 * regex`), or if a stage ever overshoots, the text is cut here, at the
 * pipeline boundary, after the last whole sentence (or line) that fits,
 * so what is kept is still verbatim.
 */
export interface BudgetCut {
  text: string;
  tokens: number;
  /** Where the text was cut: after a sentence or line, after a word, or inside a word (a single word over the budget). */
  boundary: 'sentence' | 'word' | 'character';
}

/** The longest verbatim head of `text` that counts at most `budget` tokens, cut at the best boundary there is. */
export function cutToBudget(text: string, budget: number, tokenizer: Tokenizer): BudgetCut {
  const fits = (end: number) => tokenizer.count(text.slice(0, end).trimEnd()) <= budget;
  const sentenceEnds = sentenceSpans(text).map((span) => span.end);
  const sentence = longestFitting(sentenceEnds, fits);
  if (sentence !== undefined) return result(text, sentence, 'sentence', tokenizer);
  const wordEnds: number[] = [];
  for (const match of text.matchAll(/\S(?=\s)/gu)) wordEnds.push(match.index + match[0].length);
  const word = longestFitting(wordEnds, fits);
  if (word !== undefined) return result(text, word, 'word', tokenizer);
  // One word longer than the budget (a long URL or a base64 blob): cut between code points.
  const codePointEnds: number[] = [];
  for (let index = 0; index < text.length; ) {
    index += text.codePointAt(index)! > 0xffff ? 2 : 1;
    codePointEnds.push(index);
  }
  return result(text, longestFitting(codePointEnds, fits) ?? 0, 'character', tokenizer);
}

function result(text: string, end: number, boundary: BudgetCut['boundary'], tokenizer: Tokenizer): BudgetCut {
  const kept = text.slice(0, end).trimEnd();
  return { text: kept, tokens: tokenizer.count(kept), boundary };
}

/**
 * The largest end (ascending list) whose head fits. A head's count grows
 * with its length almost always; the binary search finds the candidate and
 * the walk back makes sure of it, because a longer head can, rarely,
 * count fewer tokens.
 */
function longestFitting(ends: readonly number[], fits: (end: number) => boolean): number | undefined {
  let low = 0;
  let high = ends.length - 1;
  let best = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (fits(ends[middle]!)) {
      best = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  for (let index = best; index >= 0; index--) if (fits(ends[index]!)) return ends[index];
  return undefined;
}

/**
 * Cut `doc` to `budget` tokens if it is over, with a warning that says so
 * and the stage metric of the cut (so each stage's savings still add up to
 * the total). Returns whether it cut.
 */
export function enforceBudget(doc: DistillDocument, budget: number, tokenizer: Tokenizer, onCut?: (tokensIn: number, tokensOut: number, ms: number) => void): boolean {
  if (!doc.active) return false;
  const started = performance.now();
  const tokensIn = tokenizer.count(doc.value);
  if (tokensIn <= budget) return false;
  const cut = cutToBudget(doc.value, budget, tokenizer);
  doc.value = cut.text;
  const ms = performance.now() - started;
  doc.stages.push({ stage: 'budget', tokensIn, tokensOut: cut.tokens, ms: Math.round(ms * 10) / 10 });
  const where = cut.boundary === 'sentence' ? 'after the last whole sentence or line that fits' : cut.boundary === 'word' ? 'after the last whole word that fits (no sentence fits)' : 'inside its first word (no word fits)';
  doc.message(`the text was ${tokensIn} tokens, over the budget of ${budget}, after the stages that ran: it was cut ${where}, to ${cut.tokens} tokens`, 'budget:cut', {
    fix: 'run the sections stage (it is in the default --stages) to keep what the task needs rather than the start of the document',
  });
  onCut?.(tokensIn, cut.tokens, ms);
  return true;
}
