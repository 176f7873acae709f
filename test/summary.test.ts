import { describe, expect, it } from 'vitest';
import { createPipeline } from '../src/pipeline.js';
import { formatSummary } from '../src/report/terminal.js';
import { RunSummary } from '../src/summary.js';

const reply = [
  'From: Ann Lee <ann@example.org>',
  'To: list@example.org',
  'Subject: Re: daemon port',
  '',
  'It uses 8443 since 2.3.',
  '',
  'On Tue, 20 Aug 2002, Al White wrote:',
  '> Which port does the daemon use?',
  '> It fails on 8080.',
  '',
  '-- ',
  'Ann Lee, release manager',
].join('\n');

describe('run summary', () => {
  it('counts the sections the regex stage labelled instead of removing, and says so', async () => {
    const pipeline = createPipeline({ task: 'Which port does the daemon use?', stages: ['regex', 'sections'], llm: false });
    const record = await pipeline.process({ id: 'reply.eml', text: reply, format: 'email' });
    await pipeline.close();
    expect(Object.values(record.priors ?? {}).map((prior) => prior.label).sort()).toEqual(['quoted', 'signature']);
    // The task asks what the quoted message asked: the quote stays.
    expect(record.distilled).toContain('> Which port does the daemon use?');
    const summary = new RunSummary();
    summary.add(record);
    expect(formatSummary(summary, { dryRun: true })).toMatch(/Labelled, not removed .*: quoted 1, signature 1/);
  });
});
