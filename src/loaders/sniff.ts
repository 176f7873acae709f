import type { DocumentFormat } from '../document.js';
import { utf16Encoding } from './encoding.js';

/** Formats by file extension; content sniffing can override a misleading one. */
export const formatsByExtension: Readonly<Record<string, DocumentFormat>> = {
  '.txt': 'text',
  '.text': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.pdf': 'pdf',
  '.eml': 'email',
};

export const supportedExtensions = Object.keys(formatsByExtension);

const emailHeader = /^(?:Return-Path|Received|From|To|Subject|Date|Message-ID|Delivered-To|MIME-Version|Content-Type|X-[\w-]+):[ \t]/i;

/** What the bytes say the format is, or undefined when they say nothing definite. */
export function sniffFormat(bytes: Uint8Array): DocumentFormat | undefined {
  if (new TextDecoder('latin1').decode(bytes.subarray(0, 5)) === '%PDF-') return 'pdf';
  const utf16 = utf16Encoding(bytes);
  const head = utf16 ? new TextDecoder(utf16).decode(bytes.subarray(0, 8192)) : new TextDecoder('latin1').decode(bytes.subarray(0, 4096));
  const start = head.replace(/^\uFEFF?\s*/, '').slice(0, 512).toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || (start.startsWith('<?xml') && start.includes('<html'))) {
    return 'html';
  }
  if (looksLikeEmail(head)) return 'email';
  return undefined;
}

/** An RFC 822 header block: the first lines are `Name: value` headers, at least two of them known mail headers. */
function looksLikeEmail(head: string): boolean {
  const lines = head.split(/\r?\n/);
  let known = 0;
  for (const line of lines.slice(0, 40)) {
    if (line === '') break;
    if (/^[ \t]/.test(line)) continue;
    if (!/^[\x21-\x39\x3b-\x7e]+:/.test(line) && !line.startsWith('From ')) return false;
    if (emailHeader.test(line)) known++;
  }
  return known >= 2;
}

/** Binary content: a NUL byte, or many control characters, in the first 8 KiB. */
export function looksBinary(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 8192);
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) return true;
    if (byte < 9 || (byte > 13 && byte < 32)) control++;
  }
  return sample.length > 0 && control / sample.length > 0.1;
}

/**
 * Plain text, for a file whose name gives no format: UTF-16 as `utf16Encoding`
 * finds it, or bytes with no control characters in the first 8 KiB that are
 * valid UTF-8, or mostly ASCII (Latin-1 or Windows-1252 text).
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (utf16Encoding(bytes)) return true;
  const sample = bytes.subarray(0, 8192);
  let high = 0;
  for (const byte of sample) {
    if (byte < 9 || (byte > 13 && byte < 32) || byte === 127) return false;
    if (byte >= 0x80) high++;
  }
  try {
    // `stream` lets the sample end inside a character.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return true;
  } catch {
    return high <= sample.length * 0.3;
  }
}
