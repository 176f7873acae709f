// JSONL in, JSONL out: distil documents from an export inside your own job.
// Usage: node examples/etl-jsonl.mjs input.jsonl output.jsonl
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createPipeline } from 'distill';

const [input, output] = process.argv.slice(2);
const pipeline = createPipeline({
  task: 'What amounts and deadlines does this mention?',
  budget: 300,
  dryRun: true, // drop this line (and set OPENAI_API_KEY) to ask GPT-4o
  onStage: ({ doc, stage, tokensIn, tokensOut }) => console.error(`${doc.id} ${stage}: ${tokensIn} → ${tokensOut} tokens`),
});

async function* documents() {
  for await (const line of createInterface({ input: createReadStream(input) })) {
    if (line.trim()) yield JSON.parse(line); // { id, text } per line
  }
}

const sink = createWriteStream(output);
for await (const record of pipeline.run(documents())) {
  if (!sink.write(`${JSON.stringify(record)}\n`)) await once(sink, 'drain');
}
sink.end();
await pipeline.close();
