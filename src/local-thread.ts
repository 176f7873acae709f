import { parentPort, workerData } from 'node:worker_threads';
import { createStage } from '../stages/index.js';
import { DistillDocument } from './document.js';
import { DistillError } from './errors.js';
import type { LocalThreadsSetup, ThreadReply, ThreadRequest, ThreadStageEvent } from './local-threads.js';
import { buildMessages, countPromptTokens } from './prompt.js';
import { runStages } from './runner.js';
import type { StageContext } from './stage.js';
import { o200k } from './tokens.js';

/**
 * One thread of `LocalThreads`: it builds the local stages once from the
 * run's options and runs them over each document it is sent, with the same
 * runner (token counts, timing, error boundary) as the main thread.
 */

if (!parentPort) throw new Error('src/local-thread must run as a worker thread');
const port = parentPort;
const setup = workerData as LocalThreadsSetup;

const stages = setup.stages.map((name) => {
  // This thread is already one of a pool: entities are extracted in it, not in a nested pool of their own.
  if (name === 'entities') return createStage('entities', { ...setup.options.entities, workers: 0 });
  return createStage(name, setup.options[name]);
});
const context: StageContext = {
  task: setup.context.task,
  model: setup.context.model,
  tokenizer: o200k,
  ...(setup.context.budget === undefined ? {} : { budget: setup.context.budget }),
};

port.on('message', (request: ThreadRequest) => {
  void handle(request).then((reply) => port.postMessage(reply));
});

async function handle(request: ThreadRequest): Promise<ThreadReply> {
  try {
    if (request.type === 'load') {
      // The o200k tables (about 0.1 s) load on the first count: make that now too.
      o200k.count('load');
      for (const stage of stages) await stage.load?.();
      return { id: request.id, ok: true };
    }
    const events: ThreadStageEvent[] = [];
    const doc = await runStages(DistillDocument.fromState(request.state), {
      stages,
      context,
      onStage: ({ doc: _doc, ...event }) => events.push(event),
    });
    // The record prices the original prompt; here the document's sentences are still in this thread's count memo.
    doc.data.originalPromptTokens = { task: context.task, tokens: countPromptTokens(buildMessages(context.task, doc.original, doc.source), o200k) };
    return { id: request.id, ok: true, state: doc.toState(), events };
  } catch (error) {
    const known = error instanceof DistillError ? error : undefined;
    return {
      id: request.id,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      ...(known ? { code: known.code } : {}),
      ...(known?.fix ? { fix: known.fix } : {}),
    };
  }
}
