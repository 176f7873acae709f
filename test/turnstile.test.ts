import { describe, expect, it } from 'vitest';
import { Turnstile } from '../src/turnstile.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Turnstile', () => {
  it('serves turns in the order they were taken, though later ones are ready first', async () => {
    const turnstile = new Turnstile();
    const served: number[] = [];
    const turns = [0, 1, 2, 3].map(() => turnstile.take());
    // Ready in the reverse order: the last turn asks first.
    const done = [3, 2, 1, 0].map(async (index) => {
      for (let wait = 0; wait < 3 - index; wait++) await tick();
      return turns[index]!.run(async () => {
        served.push(index);
        await tick();
      });
    });
    await Promise.all(done);
    expect(served).toEqual([0, 1, 2, 3]);
  });

  it('lets later turns through when an earlier one ends without running, or its work throws', async () => {
    const turnstile = new Turnstile();
    const [skipped, failing, last] = [turnstile.take(), turnstile.take(), turnstile.take()];
    const served: string[] = [];
    const lastDone = last.run(async () => served.push('last'));
    const failed = failing.run(async () => Promise.reject(new Error('stage crashed')));
    failed.catch(() => {});
    await tick();
    // The first turn has neither run nor ended: nothing behind it may start.
    expect(served).toEqual([]);
    skipped.end();
    skipped.end();
    await expect(failed).rejects.toThrow('stage crashed');
    await lastDone;
    expect(served).toEqual(['last']);
  });
});
