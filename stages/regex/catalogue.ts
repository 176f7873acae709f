import { emailRules } from './email.js';
import type { RegexRule, RuleFamily } from './engine.js';
import { furnitureRules } from './furniture.js';
import { layoutRules } from './layout.js';
import { noiseRules } from './noise.js';
import { webRules } from './web.js';

/**
 * Every built-in rule, in the order the stage runs them. Order matters for
 * what each rule is credited with: transport headers go first (they are the
 * biggest and safest cut), encoded blobs before the email body rules (a PGP
 * block would otherwise read as a long signature), layout last (it tidies
 * the blank lines every other rule leaves behind).
 */
export const builtinRules: readonly RegexRule[] = [
  emailRules[0]!, // transport headers
  ...noiseRules,
  ...emailRules.slice(1),
  ...webRules,
  ...furnitureRules,
  ...layoutRules,
];

export interface RuleDescription {
  name: string;
  family: RuleFamily;
  description: string;
}

/** The rule list for `--help`, docs and config validation. */
export const ruleCatalogue: readonly RuleDescription[] = builtinRules.map(({ name, family, description }) => ({ name, family, description }));

/** The family of a rule name (`regex:email-signature` → `email`), for per-family totals. */
export function familyOf(ruleName: string): RuleFamily | undefined {
  const bare = ruleName.startsWith('regex:') ? ruleName.slice('regex:'.length) : ruleName;
  const family = bare.split('-', 1)[0];
  return (['layout', 'furniture', 'email', 'web', 'noise', 'user'] as const).find((name) => name === family);
}
