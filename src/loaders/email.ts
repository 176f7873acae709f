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

/** Most MIME parts (the message itself included) read from one message: mailparser's own default, set here so a message can name it. */
export const maxMimeParts = 1000;

const parserOptions = { skipImageLinks: true, skipTextToHtml: true, maxChildNodes: maxMimeParts };

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
  let rawBody = false;
  try {
    parsed = await simpleParser(raw, parserOptions);
  } catch (error) {
    if (!tooManyParts(error)) {
      throw new LoadError(`cannot parse email: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
        code: 'E_EMAIL',
        fix: 'check that the file is a raw RFC 822 message (headers, a blank line, then the body)',
      });
    }
    const recovered = await readFirstParts(raw);
    parsed = recovered.parsed;
    rawBody = recovered.rawBody;
    warnings.push(recovered.warning);
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
      if (!rawBody) warnings.push({ reason: malformedReason(parsed, rawText), origin: 'load:mime-malformed', fix: rawBodyFix });
    }
  }
  const attachments = parsed.attachments.map(
    (attachment) => `[attachment: ${attachment.filename ?? 'unnamed'} (${attachment.contentType}, ${attachment.size} bytes)]`,
  );
  const text = [headerLines.join('\n'), body, attachments.join('\n')].filter((part) => part.length > 0).join('\n\n');
  return { text, subject: parsed.subject, attachments: parsed.attachments.length, warnings };
}

const rawBodyFix = 'the text may hold MIME part headers and encoded lines: export the message again from the mail client, or fix its Content-Type boundary';

function tooManyParts(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EMAXLEN' && /child nodes/.test(error.message);
}

/**
 * A message with more parts than the parser reads: parse its first parts
 * (everything up to a top-level boundary, then a closing boundary), fewer
 * when parts nest, and failing that keep the raw body under its headers.
 */
async function readFirstParts(raw: Buffer): Promise<{ parsed: ParsedMail; rawBody: boolean; warning: EmailWarning }> {
  const { head, body } = splitMessage(raw);
  const headers = await simpleParser(Buffer.from(`${head}\r\n\r\n`, 'latin1'), parserOptions);
  const boundary = contentType(headers)?.params.boundary;
  const openings = boundary ? [...body.matchAll(delimiters(boundary))].filter((match) => match[1] === undefined) : [];
  const limit = maxMimeParts.toLocaleString('en-US');
  // Top-level parts are counted here; when they are fewer than the limit, nested parts took it over.
  const total = openings.length > maxMimeParts ? `${openings.length.toLocaleString('en-US')} MIME parts, more than the ${limit} distill reads` : `more than ${limit} MIME parts, nested ones included, the most distill reads`;
  const fix = 'split the message, or save the parts you need as files of their own, to read the rest';
  for (let kept = maxMimeParts - 1; kept >= 1 && boundary; kept = Math.floor(kept / 2)) {
    const next = openings[kept];
    if (next?.index === undefined) break;
    const first = Buffer.from(`${head}\r\n\r\n${body.slice(0, next.index)}--${boundary}--\r\n`, 'latin1');
    try {
      const parsed = await simpleParser(first, parserOptions);
      return { parsed, rawBody: false, warning: { reason: `the message has ${total}: the first ${kept.toLocaleString('en-US')} parts are kept, the rest left out`, origin: 'load:mime-parts', fix } };
    } catch (error) {
      if (!tooManyParts(error)) break;
    }
  }
  return { parsed: headers, rawBody: true, warning: { reason: `the message has ${total}: its raw body is kept as text`, origin: 'load:mime-parts', fix: `${fix}; ${rawBodyFix}` } };
}

/** Header block and body as Latin-1 strings, so that string offsets are byte offsets and the bytes survive a cut. */
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
