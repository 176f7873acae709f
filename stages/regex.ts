import type { DistillDocument, DocumentFormat, RuleSaving } from '../src/document.js';
import { invalidOption } from '../src/errors.js';
import type { Stage, StageContext } from '../src/stage.js';
import type { Tokenizer } from '../src/tokens.js';
import { builtinRules, familyOf, ruleCatalogue, type RuleDescription } from './regex/catalogue.js';
import { environmentOf, ruleFamilies, type RegexRule, type RuleFamily } from './regex/engine.js';
import { TokenMeter } from './regex/meter.js';
import { compileFilters, compileUserRule, type CompiledFilter, type DocumentFilter, type UserRule } from './regex/user.js';

export { builtinRules, familyOf, ruleCatalogue, ruleFamilies };
export { TokenMeter } from './regex/meter.js';
export type { DocumentFilter, RegexRule, RuleDescription, RuleFamily, UserRule };

/**
 * Options of the regex stage (`stages.regex` in config). Rules and families
 * are named as in `ruleCatalogue`: `regex:email-signature` or
 * `email-signature` for one rule, `email` or `regex:email` for a family.
 */
export interface FilterBoilerplateOptions {
  /**
   * Rules or families to turn off (`--disable-rule`).
   * @default []
   * @example ['email-signature', 'noise-ids']
   */
  disable?: string[];
  /**
   * Run only these rules or families (`--rules`); user rules always run unless disabled.
   * @default every built-in rule
   */
  rules?: string[];
  /**
   * Extra rules from config, run after the built-in ones (before layout, which tidies up after them).
   * @example [{ name: 'ticket-footer', pattern: '^Ticket #\\d+ updated by .*$', scope: 'line' }]
   */
  userRules?: UserRule[];
  /** A document matching none of these is skipped (when any are given). @default [] */
  include?: DocumentFilter[];
  /** A document matching any of these is skipped. @default [] */
  exclude?: DocumentFilter[];
}

const knownOptions = new Set(['disable', 'rules', 'userRules', 'include', 'exclude']);

function bareName(name: string): string {
  return name.startsWith('regex:') ? name.slice('regex:'.length) : name;
}

/** The rules a selector names: one rule, or every rule of a family. */
function selectRules(option: string, selectors: unknown, all: readonly RegexRule[]): Set<string> {
  if (!Array.isArray(selectors)) throw invalidOption(option, 'an array of rule names or families', selectors);
  const selected = new Set<string>();
  selectors.forEach((selector: unknown, index) => {
    if (typeof selector !== 'string') throw invalidOption(`${option}[${index}]`, 'a rule name or family', selector);
    const bare = bareName(selector.trim());
    const family = (ruleFamilies as readonly string[]).includes(bare) ? bare : undefined;
    const matches = all.filter((rule) => (family ? rule.family === family : bareName(rule.name) === bare || bareName(rule.name) === `user-${bare}`));
    if (matches.length === 0 && !family) {
      throw invalidOption(`${option}[${index}]`, `a rule name or family (one of ${ruleFamilies.join(', ')}, or a rule such as \`email-signature\`; \`distill --help\` lists them)`, selector);
    }
    for (const rule of matches) selected.add(rule.name);
  });
  return selected;
}

/**
 * The regex stage: named, bounded boilerplate rules, each credited with the
 * exact o200k tokens it removed (`doc.data.ruleSavings`), and document-level
 * include/exclude filters that skip a whole document.
 *
 * @example
 * const stage = filterBoilerplate({ disable: ['noise-ids'], exclude: [{ name: 'auto-reply', pattern: '^Subject: (?:Out of office|Auto-?reply)', flags: 'im' }] });
 */
export function filterBoilerplate(options: FilterBoilerplateOptions = {}): Stage {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidOption('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key)) throw invalidOption(key, `an option of the regex stage (${[...knownOptions].join(', ')})`, key);
  }
  if (options.userRules !== undefined && !Array.isArray(options.userRules)) throw invalidOption('userRules', 'an array of `{name, pattern, flags, replace, scope}`', options.userRules);
  const userRules = (options.userRules ?? []).map((rule, index) => compileUserRule(rule, index));
  const names = new Set(builtinRules.map((rule) => rule.name));
  userRules.forEach((rule, index) => {
    if (names.has(rule.name)) throw invalidOption(`userRules[${index}].name`, 'a name no other rule has', rule.name);
    names.add(rule.name);
  });
  // User rules run before layout, so the blank lines they leave are tidied too.
  const all = [...builtinRules.filter((rule) => rule.family !== 'layout'), ...userRules, ...builtinRules.filter((rule) => rule.family === 'layout')];
  const only = options.rules === undefined ? undefined : selectRules('rules', options.rules, all);
  const disabled = options.disable === undefined ? new Set<string>() : selectRules('disable', options.disable, all);
  const active = all.filter((rule) => !disabled.has(rule.name) && (only === undefined || only.has(rule.name) || rule.family === 'user'));
  const filters: CompiledFilter[] = [...compileFilters('exclude', options.exclude), ...compileFilters('include', options.include)];
  const meters = new WeakMap<Tokenizer, TokenMeter>();

  return {
    name: 'regex',
    run(doc: DistillDocument, context: StageContext) {
      if (!doc.active) return;
      if (skipByFilter(doc, filters)) return;
      let meter = meters.get(context.tokenizer);
      if (!meter) meters.set(context.tokenizer, (meter = new TokenMeter(context.tokenizer)));
      const { text, savings } = applyRules(doc.value, doc.format, active, (before, after) => meter.removed(before, after));
      doc.value = text;
      doc.data.ruleSavings = savings;
    },
  };
}

/**
 * Run `rules` in order over `text`, crediting each rule that changed the
 * text with its hits and the tokens it removed (`removed(before, after)`,
 * exact o200k counts), so the figures sum to the stage's total.
 */
export function applyRules(
  text: string,
  format: DocumentFormat,
  rules: readonly RegexRule[],
  removed: (before: string, after: string) => number,
): { text: string; savings: RuleSaving[] } {
  const environment = environmentOf(text, format);
  const savings: RuleSaving[] = [];
  for (const rule of rules) {
    if (rule.appliesTo && !rule.appliesTo(environment)) continue;
    if (rule.hint && !rule.hint.test(text)) continue;
    const result = rule.apply(text, environment);
    if (result.hits === 0 || result.text === text) continue;
    savings.push({ rule: rule.name, hits: result.hits, tokensRemoved: removed(text, result.text) });
    text = result.text;
  }
  return { text, savings };
}

function skipByFilter(doc: DistillDocument, filters: readonly CompiledFilter[]): boolean {
  for (const filter of filters) {
    if (filter.kind === 'exclude' && filter.pattern.test(doc.value)) {
      doc.skip(`excluded by rule regex:exclude-${filter.name} (/${filter.pattern.source}/${filter.pattern.flags})`, `regex:exclude-${filter.name}`);
      return true;
    }
  }
  const includes = filters.filter((filter) => filter.kind === 'include');
  if (includes.length > 0 && !includes.some((filter) => filter.pattern.test(doc.value))) {
    const names = includes.map((filter) => `regex:include-${filter.name}`);
    doc.skip(`matches no include filter (${names.join(', ')})`, names[0]!);
    return true;
  }
  return false;
}
