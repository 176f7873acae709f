import type { DistillDocument, DocumentFormat, RuleSaving, SectionPrior } from '../src/document.js';
import { sectionOffsets, sectionsOf } from '../src/sections.js';
import { traceEdit } from '../src/spans/trace.js';
import { invalidOption } from '../src/errors.js';
import { unknownOption } from '../src/options.js';
import type { Stage, StageContext } from '../src/stage.js';
import type { Tokenizer } from '../src/tokens.js';
import { builtinRules, familyOf, ruleCatalogue, type RuleDescription } from './regex/catalogue.js';
import { environmentOf, removedSpans, ruleFamilies, type RegexRule, type RuleFamily } from './regex/engine.js';
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
  /**
   * Labelling rules (quoted replies, signatures, disclaimers, list footers,
   * navigation: `distill rules` marks them) label what they match, and the
   * sections stage weighs that against the task. Rules or families named
   * here delete their matches instead, before the task is seen.
   * @default []
   * @example ['email-signature', 'email-disclaimer']
   */
  remove?: string[];
  /** A document matching none of these is skipped (when any are given). @default [] */
  include?: DocumentFilter[];
  /** A document matching any of these is skipped. @default [] */
  exclude?: DocumentFilter[];
}

const knownOptions = new Set(['disable', 'rules', 'remove', 'userRules', 'include', 'exclude']);

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
    if (!knownOptions.has(key)) throw unknownOption(key, [...knownOptions]);
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
  const removing = options.remove === undefined ? new Set<string>() : selectRules('remove', options.remove, all);
  const active = all
    .filter((rule) => !disabled.has(rule.name) && (only === undefined || only.has(rule.name) || rule.family === 'user'))
    .map((rule) => (rule.label !== undefined && removing.has(rule.name) ? withoutLabel(rule) : rule));
  const filters: CompiledFilter[] = [...compileFilters('exclude', options.exclude), ...compileFilters('include', options.include)];
  const meters = new WeakMap<Tokenizer, TokenMeter>();

  return {
    name: 'regex',
    run(doc: DistillDocument, context: StageContext) {
      if (!doc.active) return;
      if (skipByFilter(doc, filters)) return;
      let meter = meters.get(context.tokenizer);
      if (!meter) meters.set(context.tokenizer, (meter = new TokenMeter(context.tokenizer)));
      // With span capture on, each rule's edit is recorded under its name; whole removed lines are known without a diff.
      const onEdit = doc.data.spans
        ? (before: string, after: string, rule: string) => traceEdit(doc, after, rule, (removedSpans(before, after) ?? []).map(([start, end]) => ({ start, end, reason: rule })))
        : undefined;
      const { text, savings, regions } = applyRules(doc.value, doc.format, active, (before, after) => meter.removed(before, after), onEdit);
      doc.value = text;
      doc.data.ruleSavings = savings;
      if (regions.length > 0) labelSections(doc, regions);
    },
  };
}

/** A labelling rule that deletes, as every rule did before labels. */
function withoutLabel(rule: RegexRule): RegexRule {
  const { label: _label, ...deleting } = rule;
  return deleting;
}

/** A span of the regex stage's output that a labelling rule matched. */
export interface LabelledRegion {
  start: number;
  end: number;
  label: string;
  rule: string;
}

/**
 * Run `rules` in order over `text`, crediting each rule that changed the
 * text with its hits and the tokens it removed (`removed(before, after)`,
 * exact o200k counts), so the figures sum to the stage's total. Labelling
 * rules run last, on the final text, and change nothing: they return the
 * spans they match as `regions` (a labelling rule that rewrote lines rather
 * than removing them labels nothing, so nothing is lost). `onEdit` hears
 * each rule's edit, for span provenance.
 */
export function applyRules(
  text: string,
  format: DocumentFormat,
  rules: readonly RegexRule[],
  removed: (before: string, after: string) => number,
  onEdit?: (before: string, after: string, rule: string) => void,
): { text: string; savings: RuleSaving[]; regions: LabelledRegion[] } {
  const environment = environmentOf(text, format);
  const savings: RuleSaving[] = [];
  const applies = (rule: RegexRule, current: string) => !(rule.appliesTo && !rule.appliesTo(environment)) && !(rule.hint && !rule.hint.test(current));
  for (const rule of rules) {
    if (rule.label !== undefined || !applies(rule, text)) continue;
    const result = rule.apply(text, environment);
    if (result.hits === 0 || result.text === text) continue;
    savings.push({ rule: rule.name, hits: result.hits, tokensRemoved: removed(text, result.text) });
    onEdit?.(text, result.text, rule.name);
    text = result.text;
  }
  const regions: LabelledRegion[] = [];
  for (const rule of rules) {
    if (rule.label === undefined || !applies(rule, text)) continue;
    const result = rule.apply(text, environment);
    if (result.hits === 0 || result.text === text) continue;
    for (const [start, end] of removedSpans(text, result.text) ?? []) regions.push({ start, end, label: rule.label, rule: rule.name });
  }
  return { text, savings, regions };
}

/**
 * A section mostly inside a labelled region gets that region's label as
 * its prior. Each region finds the sections it overlaps by binary search
 * over their offsets, so the cost is linear in sections plus overlaps.
 */
function labelSections(doc: DistillDocument, regions: readonly LabelledRegion[]): void {
  const sections = sectionsOf(doc);
  const offsets = sectionOffsets(doc.value, sections);
  const starts: number[] = [];
  const indices: number[] = [];
  offsets.forEach((offset, index) => {
    if (offset >= 0) {
      starts.push(offset);
      indices.push(index);
    }
  });
  const overlaps = new Map<number, { region: LabelledRegion; overlap: number }>();
  for (const region of regions) {
    // The last section starting at or before the region's start, then onwards while sections start inside it.
    let low = 0;
    let high = starts.length - 1;
    let first = 0;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (starts[middle]! <= region.start) {
        first = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    for (let at = first; at < starts.length && starts[at]! < region.end; at++) {
      const index = indices[at]!;
      const start = starts[at]!;
      const overlap = Math.min(start + sections[index]!.text.length, region.end) - Math.max(start, region.start);
      if (overlap > (overlaps.get(index)?.overlap ?? 0)) overlaps.set(index, { region, overlap });
    }
  }
  const priors: Record<string, SectionPrior> = {};
  for (const [index, { region, overlap }] of overlaps) {
    const section = sections[index]!;
    if (section.kind !== 'heading' && overlap * 2 >= section.text.length) priors[section.id] = { label: region.label, origin: region.rule };
  }
  doc.data.priors = priors;
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
