import { get_encoding, type Tiktoken } from 'tiktoken';

/**
 * Token counting in o200k_base, the GPT-4o encoding. Behind an interface so
 * tests and embedders can swap it, but the default is the real tokenizer:
 * budgets are only exact if we count with what OpenAI bills.
 */
export interface Tokenizer {
  count(text: string): number;
  encode(text: string): Uint32Array;
  decode(tokens: Uint32Array): string;
}

let shared: Tiktoken | undefined;

function encoder(): Tiktoken {
  // One WASM encoder per process (or worker): creating one costs ~100 ms.
  shared ??= get_encoding('o200k_base');
  return shared;
}

export const o200k: Tokenizer = {
  count(text) {
    if (text.length === 0) return 0;
    return encoder().encode_ordinary(text).length;
  },
  encode(text) {
    return encoder().encode_ordinary(text);
  },
  decode(tokens) {
    return new TextDecoder().decode(encoder().decode(tokens));
  },
};

/** Count o200k_base tokens of `text`. */
export function countTokens(text: string): number {
  return o200k.count(text);
}
