/**
 * Text encodings a file can come in: UTF-8 (with or without a BOM), UTF-16
 * in either byte order (with a BOM, or plainly so without one), and Latin-1
 * as the last resort for bytes that are not valid UTF-8.
 */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'latin1';

/** How much of a file the guesses look at. */
const sampleBytes = 8192;

/**
 * UTF-16 by its byte order mark or, without one, by the pattern of ASCII-range
 * text: nearly every high byte (odd bytes in little endian, even in big endian)
 * is 0 and nearly no low byte is. Text in other scripts without a BOM is not
 * guessed: its bytes say nothing that plain.
 */
export function utf16Encoding(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  const pairs = Math.floor(Math.min(bytes.length, sampleBytes) / 2);
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let index = 0; index < pairs; index++) {
    if (bytes[2 * index] === 0) evenZeros++;
    if (bytes[2 * index + 1] === 0) oddZeros++;
  }
  const plainly = (zeros: number, others: number) => zeros >= pairs * 0.6 && others <= pairs * 0.05;
  const guess = plainly(oddZeros, evenZeros) ? 'utf-16le' : plainly(evenZeros, oddZeros) ? 'utf-16be' : undefined;
  // Binary data can have the same pattern (an array of small 16-bit numbers); text decodes without control characters.
  if (guess === undefined || controlCharacters(new TextDecoder(guess).decode(bytes.subarray(0, 2 * pairs))) > 0) return undefined;
  return guess;
}

/** The bytes as text, with the encoding used; `lossy` when some bytes could not be decoded as that encoding. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncoding; lossy: boolean } {
  const utf16 = utf16Encoding(bytes);
  const encoding: TextEncoding = utf16 ?? 'utf-8';
  try {
    // A BOM is dropped by the decoder (ignoreBOM is off).
    return { text: new TextDecoder(encoding, { fatal: true }).decode(bytes), encoding, lossy: false };
  } catch {
    if (utf16) return { text: new TextDecoder(utf16).decode(bytes), encoding: utf16, lossy: true };
    return { text: new TextDecoder('latin1').decode(bytes), encoding: 'latin1', lossy: true };
  }
}

/** Characters that do not occur in text: C0 controls other than tab, line breaks and form feed, and DEL. */
export function controlCharacters(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 9 || (code > 13 && code < 32) || code === 127) count++;
  }
  return count;
}

/** Decoded text that is binary after all: a NUL, or many control characters, in the first 8 KiB worth. */
export function looksBinaryText(text: string): boolean {
  const sample = text.slice(0, sampleBytes / 2);
  return sample.includes('\0') || (sample.length > 0 && controlCharacters(sample) / sample.length > 0.1);
}
