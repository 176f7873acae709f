import { simpleParser, type AddressObject } from 'mailparser';
import { LoadError } from '../errors.js';
import { htmlToText } from './html.js';

/**
 * An email as loaded: every header line (unfolded, encoded words decoded for
 * the address and subject headers), a blank line, then the chosen body. In
 * multipart/alternative the text/plain part wins over text/html, because
 * it is what the sender wrote and costs fewer tokens.
 */
const decodedHeaders = new Set(['from', 'to', 'cc', 'bcc', 'reply-to', 'subject']);

export async function emailToText(bytes: Uint8Array): Promise<{ text: string; subject: string | undefined; attachments: number }> {
  let parsed;
  try {
    parsed = await simpleParser(Buffer.from(bytes), { skipImageLinks: true, skipTextToHtml: true });
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
  const attachments = parsed.attachments.map(
    (attachment) => `[attachment: ${attachment.filename ?? 'unnamed'} (${attachment.contentType}, ${attachment.size} bytes)]`,
  );
  const text = [headerLines.join('\n'), body, attachments.join('\n')].filter((part) => part.length > 0).join('\n\n');
  return { text, subject: parsed.subject, attachments: parsed.attachments.length };
}

function headerValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(headerValue).join(', ');
  if (typeof value === 'object' && 'text' in value) return (value as AddressObject).text;
  return String(value);
}
