import { Duplex } from 'node:stream';
import { createPipeline, type PipelineInput, type PipelineOptions } from './pipeline.js';

/**
 * An object-mode Duplex for `stream.pipeline(source, stream(options), sink)`:
 * documents in (`{id, text}`, `{id, bytes, format}` or `{path}`), records
 * out, in input order. It reads only as fast as the sink takes records, so a
 * slow consumer slows reading and memory stays flat.
 *
 * @example
 * await pipeline(Readable.from(docs), distill.stream({ task: 'List the deadlines', dryRun: true }), sink);
 */
export function stream(options: PipelineOptions): Duplex {
  const distill = createPipeline(options);
  return Duplex.from(async function* (source: AsyncIterable<PipelineInput>) {
    try {
      yield* distill.run(source);
    } finally {
      await distill.close();
    }
  });
}
