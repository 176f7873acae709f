import { describe, it } from 'vitest';
import { acceptance } from './helpers/llm-acceptance.js';

// The real 60-second window takes minutes of waiting: it is in the opt-in timing suite (test/timing/).
describe('llm stage acceptance (429 every 4th, 500 every 9th, reset every 13th, 20 per window)', () => {
  it('30 documents at rpm 20 over a 2-second window', async () => {
    await acceptance(2000);
  }, 60_000);
});
