import { readFile } from 'node:fs/promises';
import { OptionError, UsageError } from './errors.js';
import { checkOptions, configFileSchema } from './options.js';
import type { AlertOptions } from './alerts.js';
import type { PipelineOptions } from './pipeline.js';

/**
 * The config file: JSON with the library's options (`PipelineOptions`),
 * in the same shape, checked by the same schema, plus `out` (where the
 * CLI writes records), `report` and `alerts`. Command-line flags override it. An unknown key is
 * an error that names the nearest valid one.
 *
 * @example
 * { "task": "List every deadline", "budget": 800, "stages": ["regex", "sections"], "out": "records.jsonl",
 *   "rpm": 60, "maxCost": 2, "regex": { "disable": ["regex:web-share-links"] },
 *   "llm": { "maxTokens": 300, "cache": false }, "prices": { "my-model": { "input": 1, "cachedInput": 0.5, "output": 4 } } }
 */
export type ConfigFile = Partial<Omit<PipelineOptions, 'tokenizer' | 'onStage' | 'signal'>> & {
  /** Where the CLI writes records (`--out`). */
  out?: string;
  /** Where the CLI writes the HTML report of the run (`--report`); it turns span capture on. */
  report?: string;
  /** Spend thresholds and the webhook to tell (`--alert-usd`, `--alert-webhook`). */
  alerts?: AlertOptions;
};

export async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config file ${path}: ${(error as Error).message}`, { fix: 'check the path given to --config' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(error as Error).message}`, { fix: 'fix the JSON syntax (a trailing comma, a missing quote)' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`config file ${path} must hold a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  try {
    return checkOptions(configFileSchema, parsed) as ConfigFile;
  } catch (error) {
    if (error instanceof OptionError) {
      throw new UsageError(`config file ${path}: ${error.message}`, { fix: 'the config file takes the options of createPipeline, one key per stage for its options; README "Config file" lists them' });
    }
    throw error;
  }
}
