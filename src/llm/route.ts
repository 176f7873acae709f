/**
 * Routing: a small, simple distilled prompt does not need gpt-4o. A prompt
 * goes to the small model when it is short and the task does not ask for
 * reasoning (comparison, explanation, analysis); the rest go to the large one.
 */
import { invalidOption } from '../errors.js';

export interface RouteRule {
  /** @default 'gpt-4o-mini' */
  smallModel?: string;
  /** @default the stage's model */
  largeModel?: string;
  /** Prompts (messages, in tokens) up to this size may go to the small model. @default 1500 */
  maxPromptTokens?: number;
  /**
   * A case-insensitive regular expression: a task that matches it always goes to the large model.
   * @default '\\b(why|how come|explain|compare|contrast|analy[sz]e|assess|evaluate|reason|argue|implications?|trade-?offs?|critique|infer)\\b'
   */
  complexTask?: string;
}

export const defaultComplexTask = '\\b(why|how come|explain|compare|contrast|analy[sz]e|assess|evaluate|reason|argue|implications?|trade-?offs?|critique|infer)\\b';

export interface Route {
  model: string;
  tier: 'small' | 'large';
  /** Why this tier, for the record. */
  reason: string;
}

export class Router {
  readonly smallModel: string;
  readonly largeModel: string | undefined;
  readonly maxPromptTokens: number;
  readonly complexTask: RegExp;

  constructor(rule: RouteRule = {}) {
    this.smallModel = rule.smallModel ?? 'gpt-4o-mini';
    if (typeof this.smallModel !== 'string' || this.smallModel === '') throw invalidOption('route.smallModel', 'a model name', rule.smallModel);
    if (rule.largeModel !== undefined && (typeof rule.largeModel !== 'string' || rule.largeModel === '')) {
      throw invalidOption('route.largeModel', 'a model name', rule.largeModel);
    }
    this.largeModel = rule.largeModel;
    this.maxPromptTokens = rule.maxPromptTokens ?? 1500;
    if (!Number.isInteger(this.maxPromptTokens) || this.maxPromptTokens < 1) throw invalidOption('route.maxPromptTokens', 'a positive integer', rule.maxPromptTokens);
    try {
      this.complexTask = new RegExp(rule.complexTask ?? defaultComplexTask, 'i');
    } catch {
      throw invalidOption('route.complexTask', 'a regular expression', rule.complexTask);
    }
  }

  choose(task: string, promptTokens: number, defaultModel: string): Route {
    const large = this.largeModel ?? defaultModel;
    if (promptTokens > this.maxPromptTokens) return { model: large, tier: 'large', reason: `prompt ${promptTokens} tokens > ${this.maxPromptTokens}` };
    const match = this.complexTask.exec(task);
    if (match) return { model: large, tier: 'large', reason: `task asks to "${match[0]}"` };
    return { model: this.smallModel, tier: 'small', reason: `prompt ${promptTokens} tokens ≤ ${this.maxPromptTokens}, simple task` };
  }
}
