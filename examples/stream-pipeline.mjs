// Node streams: documents in, records out, with backpressure end to end.
// Usage: node examples/stream-pipeline.mjs
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as distill from 'distill';

const documents = [
  { id: 'invoice-7', text: 'Invoice 7 from Acme Corp.\n\nTotal due: $4,200 by 3 May 2024.\n\n--\nJane Doe\nAccounts' },
  { id: 'memo-2', text: 'Memo.\n\nThe board meets on 12 June. Budget: €1.5 million.' },
];

const records = [];
await pipeline(
  Readable.from(documents),
  distill.stream({ task: 'How much is due, and when?', budget: 200, dryRun: true }),
  new Writable({
    objectMode: true,
    write(record, _encoding, done) {
      records.push(record);
      done();
    },
  }),
);
for (const record of records) console.log(`${record.id}: ${record.status}, ${record.tokens.original} → ${record.tokens.distilled} tokens`);
