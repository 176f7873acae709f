import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../src/progress.js';

/** A terminal's stderr, as far as the progress line uses it. */
function terminal() {
  const writes: string[] = [];
  const stream = { isTTY: true, columns: 200, write: (text: string) => (writes.push(text), true) } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

describe('ProgressLine', () => {
  it('shows the requests waiting on the model and the oldest one’s age', () => {
    const { stream, writes } = terminal();
    const progress = new ProgressLine(stream, true);
    progress.current = 'llm a.txt';
    progress.waiting = () => ({ inFlight: 3, oldestMs: 42_600 });
    progress.update(true);
    expect(writes.at(-1)).toContain('waiting on the model: 3 requests in flight, oldest 42s');
  });

  it('shows the current stage when nothing is on the wire', () => {
    const { stream, writes } = terminal();
    const progress = new ProgressLine(stream, true);
    progress.current = 'regex a.txt';
    progress.waiting = () => ({ inFlight: 0, oldestMs: 0 });
    progress.update(true);
    expect(writes.at(-1)).toContain('regex a.txt');
    expect(writes.at(-1)).not.toContain('waiting on the model');
  });

  it('redraws on its own while the run waits, and stops when told', async () => {
    const { stream, writes } = terminal();
    const progress = new ProgressLine(stream, true);
    let age = 0;
    progress.waiting = () => ({ inFlight: 1, oldestMs: (age += 1000) });
    progress.start(20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    progress.stop();
    const drawn = writes.length;
    expect(drawn).toBeGreaterThanOrEqual(2);
    expect(writes.at(-1)).toMatch(/1 request in flight, oldest \d+s/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writes.length).toBe(drawn);
  });

  it('writes nothing when stderr is not a terminal', async () => {
    const writes: string[] = [];
    const stream = { isTTY: false, write: (text: string) => (writes.push(text), true) } as unknown as NodeJS.WriteStream;
    const progress = new ProgressLine(stream);
    progress.waiting = () => ({ inFlight: 1, oldestMs: 5000 });
    progress.start(10);
    progress.update(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    progress.stop();
    expect(writes).toEqual([]);
  });
});
