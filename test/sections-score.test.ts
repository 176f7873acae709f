import { describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { sectionsOf } from '../src/sections.js';
import { o200k } from '../src/tokens.js';
import { terms } from '../stages/sections/analyze.js';
import { defaultWeights, scoreUnits, type ScoreWeights } from '../stages/sections/score.js';
import { outline, type Unit } from '../stages/sections/units.js';

/** Scores every unit of `text` against `task`, lexically only unless weights say otherwise. */
function scored(text: string, task: string, weights: Partial<ScoreWeights> = {}): Unit[] {
  const shape = outline(sectionsOf(new DistillDocument({ id: 'doc', text })), o200k, 'sentence', 100);
  scoreUnits({
    outline: shape,
    task,
    wants: { types: [], names: [] },
    entities: undefined,
    labels: undefined,
    priors: undefined,
    labelWeights: {},
    weights: { ...defaultWeights, meaning: 0, region: 0, ...weights },
  });
  return shape.units.flat();
}

const scoreOf = (units: Unit[], needle: string) => units.find((unit) => unit.text.includes(needle))!.score;

describe('index terms', () => {
  it('keeps a version, a dotted name and a grouped number whole beside their parts', () => {
    const found = terms('Pin it to ^0.2.3, set net.retry_max to 2,600, and read the UTF-8 notes.');
    expect(found).toEqual(expect.arrayContaining(['0.2.3', 'net.retry_max', '2,600', 'utf-8', '0', '2', '3', 'net']));
  });

  it('does not make a literal of hyphenated words or of a list without spaces', () => {
    const found = terms('A well-known trade-off: red,green,blue.');
    expect(found.some((term) => /[-,.]/.test(term))).toBe(false);
  });
});

describe('scoreUnits', () => {
  it('ranks the sentence quoting the version the task names above one holding its digits apart', () => {
    const text = [
      'Fix 1 and 2 and 3.',
      'Version 1.2.3 fixed the crash on empty input.',
      'Other notes follow here about packaging and the website.',
    ].join('\n\n');
    const units = scored(text, 'What did 1.2.3 fix?', { feedback: 0 });
    expect(scoreOf(units, 'Version 1.2.3')).toBeGreaterThan(scoreOf(units, 'Fix 1 and'));
  });

  it('with feedback, lifts a sentence in the words of the best matches though it shares none with the task', () => {
    const text = [
      'The nightly cleanup job sometimes blocks the build server.',
      'The cleanup archives stale records into ledgers when the database holds too many stale records.',
      'Setting the ledger threshold to zero stops archiving of stale records entirely.',
      'The colour of the status line is chosen by the theme settings.',
      'Aliases may be defined for long subcommands in the user file.',
    ].join('\n\n');
    const task = 'Why does the nightly cleanup block the build server, and what does it do?';
    const without = scored(text, task, { feedback: 0 });
    const withFeedback = scored(text, task, { feedback: 0.3 });
    // Without feedback the answer and an unrelated sentence are equally worth nothing; with it, the answer rises.
    expect(scoreOf(without, 'Setting the ledger')).toBe(scoreOf(without, 'The colour'));
    expect(scoreOf(withFeedback, 'Setting the ledger')).toBeGreaterThan(scoreOf(withFeedback, 'The colour'));
    expect(scoreOf(withFeedback, 'Setting the ledger')).toBeLessThan(scoreOf(withFeedback, 'The nightly cleanup'));
  });
});
