import { describe, expect, it } from 'vitest';
import { redactDeep, redactKnown, redactSecrets } from '../src/redact.js';

describe('redactSecrets', () => {
  it.each([
    ['401 Incorrect API key provided: sk-proj-abc123DEF456ghi789.', '401 Incorrect API key provided: sk-[redacted].'],
    ['Incorrect API key provided: sk-abcd***************************wxyz.', 'Incorrect API key provided: sk-[redacted].'],
    ['sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123', 'sent Authorization: Bearer [redacted]'],
    ['masked as sk-abc...wxyz, then more', 'masked as sk-[redacted], then more'],
    ['a task-list, risk-free, a desk-top', 'a task-list, risk-free, a desk-top'],
    ['Bearer bonds are paper', 'Bearer bonds are paper'],
  ])('%s', (text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it('replaces a configured key of any shape wherever it appears', () => {
    expect(redactSecrets('key gw-0123456789abcdef rejected (gw-0123456789abcdef)', ['gw-0123456789abcdef'])).toBe('key [redacted] rejected ([redacted])');
  });

  it('leaves short configured values alone: they would redact ordinary words', () => {
    expect(redactKnown('the test passed', ['test'])).toBe('the test passed');
  });

  it('redacts every string of plain data and keeps the rest', () => {
    expect(redactDeep({ reason: 'bad key sk-proj-abc123DEF456', n: 3, list: ['Bearer abcdef123456'], flag: true })).toEqual({ reason: 'bad key sk-[redacted]', n: 3, list: ['Bearer [redacted]'], flag: true });
  });
});
