import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { callModel } from '../stages/llm.js';
import { startOpenAIServer, type OpenAIServer } from './helpers/openai-server.js';

const context: StageContext = { task: 'Summarise the budget figures.', model: 'gpt-4o', tokenizer: o200k };
let server: OpenAIServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('callModel', () => {
  it('sends the distilled text through the SDK and records answer and usage', async () => {
    server = await startOpenAIServer();
    const stage = callModel({ apiKey: 'sk-test', baseURL: server.url });
    const doc = new DistillDocument({ id: 'a', source: 'a.txt', text: 'Revenue rose to $13 million in 2024.' });
    await stage.run(doc, context);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.body.messages[1]!.content).toContain('Revenue rose to $13 million in 2024.');
    expect(doc.data.response).toMatch(/^Answer [0-9a-f]{12}/);
    expect(doc.data.usage?.promptTokens).toBeGreaterThan(20);
    expect(doc.data.llm).toMatchObject({ dryRun: false, cached: false, model: 'gpt-4o' });
    expect(doc.data.llm?.costUsd).toBeGreaterThan(0);
  });

  it('sends nothing in a dry run and records an estimate', async () => {
    server = await startOpenAIServer();
    const stage = callModel({ dryRun: true, baseURL: server.url, apiKey: 'sk-test' });
    const doc = new DistillDocument({ id: 'a', text: 'Some text.' });
    await stage.run(doc, context);
    expect(server.requests).toHaveLength(0);
    expect(doc.data.llm).toMatchObject({ dryRun: true, estimated: true });
    expect(doc.data.request).toMatchObject({ model: 'gpt-4o', max_tokens: 1024 });
  });

  it('accepts an injected client', async () => {
    server = await startOpenAIServer();
    const client = new OpenAI({ apiKey: 'x', baseURL: server.url, maxRetries: 0 });
    const doc = new DistillDocument({ id: 'a', text: 'Some text.' });
    await callModel({ client }).run(doc, context);
    expect(server.requests).toHaveLength(1);
  });
});
