import { describe, it } from 'vitest';
import { acceptance } from '../helpers/llm-acceptance.js';

/** Opt-in (`npm run test:timing`): issue 7's acceptance over the real 60-second rate-limit window, about two minutes of waiting. */
describe('llm stage acceptance (429 every 4th, 500 every 9th, reset every 13th, 20 per window)', () => {
  it('30 documents at rpm 20 over the real 60-second window', async () => {
    await acceptance(60_000);
  }, 400_000);
});
