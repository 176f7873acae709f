import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.js';
import type { PipelineOptions } from './pipeline.js';

/**
 * The config file: JSON with the pipeline's options, one key per stage for
 * that stage's options. Command-line flags override it.
 *
 * @example
 * { "task": "List every deadline", "budget": 800, "stages": ["regex", "sections"],
 *   "regex": { "disable": ["regex:web-share-links"] }, "prices": { "my-model": { "input": 1, "cachedInput": 0.5, "output": 4 } } }
 */
export type ConfigFile = Partial<Omit<PipelineOptions, 'tokenizer' | 'onStage' | 'llmOptions' | 'llm'>> & { llm?: PipelineOptions['llmOptions'] };

const knownKeys = new Set(['task', 'budget', 'model', 'stages', 'dryRun', 'concurrency', 'threads', 'maxBytes', 'prices', 'regex', 'entities', 'classify', 'sections', 'llm']);

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
  for (const key of Object.keys(parsed)) {
    if (!knownKeys.has(key)) {
      throw new UsageError(`config file ${path}: unknown key "${key}"`, { fix: `use one of: ${[...knownKeys].join(', ')}` });
    }
  }
  return parsed as ConfigFile;
}
