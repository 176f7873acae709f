import { parentPort } from 'node:worker_threads';
import { extractJob } from './extract.js';
import type { ExtractJob, WorkerReply } from './pool.js';

/**
 * Worker thread entry: loads compromise once (on import of the core), then
 * answers one job at a time. A throw inside extraction is answered as an
 * error for that job; only a real crash (out of memory, native fault) ends
 * the thread, and the pool turns that into a failure of the job it held.
 */

if (!parentPort) throw new Error('stages/entities/worker must run as a worker thread');
const port = parentPort;

port.on('message', (message: { id: number; job: ExtractJob }) => {
  const { id, job } = message;
  let reply: WorkerReply;
  try {
    const results = extractJob(job);
    reply = { id, ok: true, results };
  } catch (error) {
    reply = { id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  port.postMessage(reply);
});
