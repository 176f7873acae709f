import { describe, expect, it } from 'vitest';
import { adversarial, linearityCases } from '../bench/regex-linear.js';
import { builtinRules } from '../stages/regex.js';

/**
 * The adversarial inputs the linearity bench and the timing suite time
 * (bench/regex-linear.ts): a rule without them would go unmeasured. The
 * timing itself is never asserted here.
 */
describe('regex rules: adversarial inputs', () => {
  it('has adversarial inputs for every built-in rule, and none for a rule that does not exist', () => {
    const names = builtinRules.map((rule) => rule.name);
    expect(names.filter((name) => !adversarial[name])).toEqual([]);
    expect(Object.keys(adversarial).filter((name) => !names.includes(name))).toEqual([]);
    expect(linearityCases.length).toBeGreaterThanOrEqual(names.length);
  });
});
