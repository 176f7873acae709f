import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRunOptions } from '../src/cli.js';
import { readConfig } from '../src/config.js';
import { OptionError } from '../src/errors.js';
import { editDistance, nearestName } from '../src/options.js';
import { createPipeline, type Pipeline, type PipelineOptions } from '../src/pipeline.js';
import { countTokens } from '../src/tokens.js';
import { callModel, classifySections, createStage, extractEntities, filterBoilerplate, selectSections } from '../stages/index.js';
import type { LlmStage } from '../stages/llm.js';

/**
 * §5 of issue 14: the options are described once and mean the same in
 * every door. Each row is tested once through the library
 * (`createPipeline`) and once through the config file (`--config`, read
 * and merged as the CLI does).
 */
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'distill-options-'));
});

const opened: Pipeline[] = [];
afterAll(async () => {
  await Promise.all(opened.map((pipeline) => pipeline.close()));
});

function library(options: PipelineOptions): Pipeline {
  const pipeline = createPipeline(options);
  opened.push(pipeline);
  return pipeline;
}

let configs = 0;
/** The config file door: write the JSON, read it and merge the (given) flags as `distill run` does, then build the pipeline. */
async function viaConfig(json: unknown, flags: Record<string, unknown> = {}): Promise<{ pipeline: Pipeline; options: PipelineOptions; out?: string }> {
  const path = join(scratch, `config-${++configs}.json`);
  await writeFile(path, JSON.stringify(json));
  const resolved = await resolveRunOptions({ config: path, 'dry-run': true, threads: '1', ...flags } as never, {});
  return { ...resolved, pipeline: library(resolved.options) };
}

const llmOf = (pipeline: Pipeline) => pipeline.stages.find((stage) => stage.name === 'llm') as LlmStage;
const text = Array.from({ length: 30 }, (_, index) => `Item ${index} of the invoice costs $${index * 10} and is due on ${index + 1} May 2024.`).join(' ');

describe('options: the llm stage in the config-file shape', () => {
  it('library: `llm: { maxCost, cache: false }` reaches the stage (it used to be ignored)', () => {
    const summary = llmOf(library({ task: 'x', dryRun: true, llm: { maxCost: 1e-9, cache: false } })).summary();
    expect(summary.maxCostUsd).toBe(1e-9);
    expect(summary.cache).toBeNull();
  });

  it('config file: the same `llm` object reaches the stage', async () => {
    const { pipeline } = await viaConfig({ task: 'x', llm: { maxCost: 1e-9, cache: false } });
    expect(llmOf(pipeline).summary()).toMatchObject({ maxCostUsd: 1e-9, cache: null });
  });

  it('library: `llm: false` leaves the stage out', () => {
    expect(library({ task: 'x', llm: false }).stages.map((stage) => stage.name)).not.toContain('llm');
  });

  it('library: the old `llmOptions` key is refused, pointing to `llm`', () => {
    expect(() => createPipeline({ task: 'x', llmOptions: {} } as never)).toThrow('Unknown option `llmOptions`; did you mean `llm`? (it was renamed)');
  });

  it('library: `llm.model` is the model, for the request and the record', async () => {
    const record = await library({ task: 'x', dryRun: true, stages: [], llm: { model: 'gpt-4o-mini', cache: false } }).process({ id: 'a', text: 'Hello.' });
    expect(record.cost.model).toBe('gpt-4o-mini');
  });
});

describe('options: unknown keys are errors with the nearest name', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a top-level typo', { bugdet: 10 }, 'Unknown option `bugdet`; did you mean `budget`?'],
    ['an unknown stage option', { sections: { bogus: 1 } }, 'Unknown option `sections.bogus`; expected one of: `budget`, `granularity`'],
    ['a stage option typo', { sections: { granularty: 'section' } }, 'Unknown option `sections.granularty`; did you mean `granularity`?'],
    ['an entities typo', { entities: { scoep: 'task' } }, 'Unknown option `entities.scoep`; did you mean `scope`?'],
    ['a classify typo', { classify: { treshold: 0.5 } }, 'Unknown option `classify.treshold`; did you mean `threshold`?'],
    ['a regex typo', { regex: { disabel: [] } }, 'Unknown option `regex.disabel`; did you mean `disable`?'],
    ['an llm typo', { llm: { maxCots: 1 } }, 'Unknown option `llm.maxCots`; did you mean `maxCost`?'],
    ['a nested typo', { sections: { weights: { leed: 1 } } }, 'Unknown option `sections.weights.leed`; did you mean `lead`?'],
    ['a user rule typo', { regex: { userRules: [{ name: 'a', pattern: 'b', scop: 'line' }] } }, 'Unknown option `regex.userRules[0].scop`; did you mean `scope`?'],
  ])('library: %s', (_, options, message) => {
    const error = (() => {
      try {
        createPipeline({ task: 'x', ...options } as PipelineOptions);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as OptionError).code).toBe('E_OPTION_UNKNOWN');
    expect((error as Error).message).toContain(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a top-level typo', { bugdet: 10 }, 'Unknown option `bugdet`; did you mean `budget`?'],
    ['an unknown stage option', { sections: { bogus: 1 } }, 'Unknown option `sections.bogus`; expected one of: `budget`'],
    ['an llm typo', { llm: { maxCots: 1 } }, 'Unknown option `llm.maxCots`; did you mean `maxCost`?'],
  ])('config file: %s', async (_, options, message) => {
    const path = join(scratch, `typo-${++configs}.json`);
    await writeFile(path, JSON.stringify({ task: 'x', ...options }));
    await expect(readConfig(path)).rejects.toThrow(`config file ${path}: ${message}`);
  });

  it.each([
    ['regex', () => filterBoilerplate({ rulez: [] } as never), 'Unknown option `rulez`; did you mean `rules`?'],
    ['entities', () => extractEntities({ bogus: 1 } as never), 'Unknown option `bogus`; expected one of: `scope`'],
    ['classify', () => classifySections({ labls: [] } as never), 'Unknown option `labls`; did you mean `labels`?'],
    ['sections', () => selectSections({ bugdet: 5 } as never), 'Unknown option `bugdet`; did you mean `budget`?'],
    ['llm', () => callModel({ rpn: 5 } as never), 'Unknown option `rpn`; did you mean `rpm`?'],
    ['createStage', () => createStage('entities', { workrs: 1 } as never), 'Unknown option `workrs`; did you mean `workers`?'],
  ])('a stage factory alone (%s) refuses an unknown key the same way', (_, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('options: bad values name the option and the value', () => {
  it.each<[Record<string, unknown>, string]>([
    [{ budget: -3 }, 'Expected `budget` to be a positive integer, got `-3` (number).'],
    [{ budget: '10' }, 'Expected `budget` to be a positive integer, got `10` (string).'],
    [{ llm: { maxCost: 'lots' } }, 'Expected `llm.maxCost` to be a number of US dollars ≥ 0, got `lots` (string).'],
    [{ sections: { granularity: 'word' } }, 'Expected `sections.granularity` to be one of `sentence`, `section`, got `word` (string).'],
    [{ rpm: 0 }, 'Expected `rpm` to be a positive integer, got `0` (number).'],
    [{ llm: 3 }, 'Expected `llm` to be a boolean, or an object of llm stage options, got `3` (number).'],
  ])('library: %j', (options, message) => {
    expect(() => createPipeline({ task: 'x', ...options } as PipelineOptions)).toThrow(message);
  });

  it('config file: a bad value, named by its path', async () => {
    const path = join(scratch, 'bad-value.json');
    await writeFile(path, JSON.stringify({ task: 'x', llm: { maxCost: 'lots' } }));
    await expect(readConfig(path)).rejects.toThrow('Expected `llm.maxCost` to be a number of US dollars ≥ 0, got `lots` (string).');
  });
});

describe('options: rpm, maxCost and out in the config file', () => {
  it('library: `maxCost`, `cache` and `rpm` at the top level reach the llm stage', () => {
    const summary = llmOf(library({ task: 'x', dryRun: true, maxCost: 2, cache: false, rpm: 60 })).summary();
    expect(summary).toMatchObject({ maxCostUsd: 2, cache: null });
  });

  it('library: the same option twice with two values is an error, not a silent choice', () => {
    expect(() => createPipeline({ task: 'x', rpm: 60, llm: { rpm: 30 } })).toThrow('`rpm` is given twice, with different values: `60` at the top level and `30` in `llm`; keep one.');
    expect(() => createPipeline({ task: 'x', model: 'gpt-4o', llm: { model: 'gpt-4o-mini' } })).toThrow('`model` is given twice');
    expect(() => createPipeline({ task: 'x', llm: false, maxCost: 1 })).toThrow('`maxCost` configures the llm stage, which `llm: false` leaves out');
    expect(() => createPipeline({ task: 'x', rpm: 60, llm: { rpm: 60 } })).not.toThrow();
  });

  it('config file: `rpm`, `maxCost` and `out` at the top level are taken, `out` as where records go', async () => {
    const { pipeline, options, out } = await viaConfig({ task: 'x', rpm: 60, maxCost: 2, cache: false, out: 'records.jsonl' });
    expect(out).toBe('records.jsonl');
    expect(options.rpm).toBe(60);
    expect(llmOf(pipeline).summary()).toMatchObject({ maxCostUsd: 2, cache: null });
  });

  it('config file: the same option at the top level and in `llm` with two values is an error', async () => {
    const path = join(scratch, 'twice.json');
    await writeFile(path, JSON.stringify({ task: 'x', maxCost: 2, llm: { maxCost: 3 } }));
    await expect(resolveRunOptions({ config: path, threads: '1' } as never, {}).then((resolved) => createPipeline(resolved.options))).rejects.toThrow('`maxCost` is given twice');
  });

  it('config file: a flag replaces the file\'s value wherever the file put it', async () => {
    const { pipeline } = await viaConfig({ task: 'x', llm: { maxCost: 3 } }, { 'max-cost': '5' });
    expect(llmOf(pipeline).summary().maxCostUsd).toBe(5);
  });
});

describe('options: the budget without the sections stage', () => {
  it('library: `budget: 10, stages: ["regex"]` returns at most 10 tokens, with a message that says it was cut', async () => {
    const record = await library({ task: 'amounts', budget: 10, stages: ['regex'], llm: false }).process({ id: 'a', text });
    expect(record.status).toBe('ok');
    expect(countTokens(record.distilled)).toBeLessThanOrEqual(10);
    expect(record.distilled.length).toBeGreaterThan(0);
    expect(text.startsWith(record.distilled)).toBe(true);
    expect(record.messages).toEqual([expect.objectContaining({ origin: 'budget:cut', fatal: false })]);
  });

  it('config file: `budget` with `stages: ["regex"]` is kept as well', async () => {
    const { pipeline } = await viaConfig({ task: 'amounts', budget: 12, stages: ['regex'] });
    const record = await pipeline.process({ id: 'a', text });
    expect(countTokens(record.distilled)).toBeLessThanOrEqual(12);
    expect(record.tokens.distilled).toBe(countTokens(record.distilled));
  });

  it('library: a ratio that no stage would keep, or that contradicts the budget, is refused', () => {
    expect(() => createPipeline({ task: 'x', stages: ['regex'], sections: { ratio: 0.2 } })).toThrow('`sections.ratio` is kept by the sections stage, which `stages` leaves out');
    expect(() => createPipeline({ task: 'x', budget: 10, sections: { ratio: 0.2 } })).toThrow('`sections.ratio` and a budget contradict each other');
    expect(() => createPipeline({ task: 'x', budget: 10, sections: { budget: 20 } })).toThrow('the budget is given twice');
  });

  it('config file: a ratio with no sections stage is refused', async () => {
    const path = join(scratch, 'ratio.json');
    await writeFile(path, JSON.stringify({ task: 'x', stages: ['regex'], sections: { ratio: 0.2 } }));
    await expect(resolveRunOptions({ config: path, threads: '1' } as never, {}).then((resolved) => createPipeline(resolved.options))).rejects.toThrow('`sections.ratio` is kept by the sections stage');
  });
});

describe('nearestName', () => {
  it.each([
    ['bugdet', ['budget', 'model'], 'budget'],
    ['--taks', ['--task', '--tpm'], '--task'],
    ['Budget', ['budget'], 'budget'],
    ['bogus', ['budget', 'granularity', 'ratio'], undefined],
  ])('%s → %s', (key, names, expected) => {
    expect(nearestName(key, names)).toBe(expected);
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('bugdet', 'budget')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
