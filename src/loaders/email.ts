import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { LoadError } from '../errors.js';
import { decodeText } from './encoding.js';
import { htmlToText } from './html.js';

/**
 * An email as loaded: every header line (unfolded, encoded words decoded for
 * the address and subject headers), a blank line, then the chosen body. In
 * multipart/alternative the text/plain part wins over text/html, because
 * it is what the sender wrote and costs fewer tokens. A message whose MIME
 * structure cannot be read keeps its raw body, with a warning, rather than
 * coming out as headers alone.
 */
const decodedHeaders = new Set(['from', 'to', 'cc', 'bcc', 'reply-to', 'subject']);

const parserOptions = { skipImageLinks: true, skipTextToHtml: true };

/** A problem with the message that still leaves text to distil. */
export interface EmailWarning {
  reason: string;
  origin: string;
  fix: string;
}

export async function emailToText(bytes: Uint8Array): Promise<{ text: string; subject: string | undefined; attachments: number; warnings: EmailWarning[] }> {
  const raw = Buffer.from(bytes);
  const warnings: EmailWarning[] = [];
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, parserOptions);
  } catch (error) {
    throw new LoadError(`cannot parse email: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      code: 'E_EMAIL',
      fix: 'check that the file is a raw RFC 822 message (headers, a blank line, then the body)',
    });
  }

  const headerLines = parsed.headerLines.map(({ key, line }) => {
    if (!decodedHeaders.has(key)) return line.replace(/\r?\n[ \t]+/g, ' ');
    const name = line.slice(0, line.indexOf(':'));
    const value = parsed.headers.get(key);
    return `${name}: ${headerValue(value)}`;
  });

  let body = parsed.text?.trim() ?? '';
  if (!body && typeof parsed.html === 'string') body = htmlToText(parsed.html).text;
  if (!body && parsed.attachments.length === 0) {
    const rawText = rawBodyText(raw);
    if (rawText.trim()) {
      body = rawText.trim();
      warnings.push({ reason: malformedReason(parsed, rawText), origin: 'load:mime-malformed', fix: rawBodyFix });
    }
  }
  const attachments = parsed.attachments.map(
    (attachment) => `[attachment: ${attachment.filename ?? 'unnamed'} (${attachment.contentType}, ${attachment.size} bytes)]`,
  );
  const text = [headerLines.join('\n'), body, attachments.join('\n')].filter((part) => part.length > 0).join('\n\n');
  return { text, subject: parsed.subject, attachments: parsed.attachments.length, warnings };
}

const rawBodyFix = 'the text may hold MIME part headers and encoded lines: export the message again from the mail client, or fix its Content-Type boundary';

/** Header block and body as Latin-1 strings, so that string offsets are byte offsets. */
function splitMessage(raw: Buffer): { head: string; body: string } {
  const text = raw.toString('latin1');
  const blank = /\r?\n\r?\n/.exec(text);
  if (!blank) return { head: text, body: '' };
  return { head: text.slice(0, blank.index), body: text.slice(blank.index + blank[0].length) };
}

/** The body as the sender's text (UTF-8, else Latin-1), line breaks as \n. */
function rawBodyText(raw: Buffer): string {
  const { body } = splitMessage(raw);
  return decodeText(Buffer.from(body, 'latin1')).text.replace(/\r\n?/g, '\n');
}

function delimiters(boundary: string): RegExp {
  return new RegExp(`^--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*\\r?$`, 'gm');
}

function contentType(parsed: ParsedMail): { value: string; params: Record<string, string> } | undefined {
  const value = parsed.headers.get('content-type');
  return typeof value === 'object' && value !== null && 'value' in value ? (value as { value: string; params: Record<string, string> }) : undefined;
}

function malformedReason(parsed: ParsedMail, body: string): string {
  const type = contentType(parsed);
  const kept = 'so its parts cannot be told apart: the raw body is kept as text';
  if (type?.value.startsWith('multipart/')) {
    const boundary = type.params.boundary;
    if (!boundary) return `malformed MIME: ${type.value} has no boundary parameter, ${kept}`;
    if (!delimiters(boundary).test(body)) return `malformed MIME: the boundary "${boundary}" of ${type.value} never appears in the body, ${kept}`;
  }
  return 'no text could be read from the MIME parts: the raw body is kept as text';
}

function headerValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(headerValue).join(', ');
  if (typeof value === 'object' && 'text' in value) return (value as AddressObject).text;
  return String(value);
}
