import type { RelevanceModel } from './relevance-model.js';
import type { Unit } from './units.js';

/**
 * Second pass: the first pass (words, meaning, region) is cheap and ranks
 * every unit; the cross-encoder reads only its best candidates, enough to
 * fill `reach` times the budget, and its probability is blended with the
 * first-pass score (scaled to the best candidate's) by `weight`. Units past
 * the candidates keep their order below them.
 */
export interface RerankSettings {
  model: RelevanceModel;
  /** Share of the blended score that is the model's. */
  weight: number;
  /** Candidates cover this many times the budget, in tokens. */
  reach: number;
  /** At most this many candidates per document. */
  maxCandidates: number;
}

export async function rerank(task: string, units: readonly Unit[], limit: number, settings: RerankSettings): Promise<void> {
  const ranked = [...units].sort((left, right) => right.score - left.score);
  const candidates: Unit[] = [];
  let tokens = 0;
  for (const unit of ranked) {
    if (candidates.length >= settings.maxCandidates || tokens >= settings.reach * limit) break;
    candidates.push(unit);
    tokens += unit.tokens;
  }
  if (candidates.length < 2) return;
  const best = candidates[0]!.score;
  if (!(best > 0)) return;
  const probabilities = await settings.model.score(task, candidates.map((unit) => unit.text));
  const floor = candidates.at(-1)!.score / best;
  const chosen = new Set(candidates);
  candidates.forEach((unit, index) => {
    unit.score = (1 - settings.weight) * (unit.score / best) + settings.weight * probabilities[index]! + 1;
  });
  // Everything the model did not read stays below every candidate, in its first-pass order.
  for (const unit of units) if (!chosen.has(unit)) unit.score = Math.min(floor, unit.score / best) * (1 - settings.weight);
}
