/**
 * Exact patterns for the entities a tagger has no business guessing:
 * e-mail addresses, URLs and phone numbers. Each returns spans into the
 * text it was given, trimmed of the punctuation that usually follows them
 * in prose ("see www.example.com.").
 */

export interface Span {
  start: number;
  end: number;
}

const email = /(?<![\p{L}\p{N}._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b/gu;

const url = /\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'`{}|\\^\[\]]+/gi;

/**
 * North American forms first (the SOTU and SpamAssassin corpora), then
 * international ones with a leading `+`. Bare seven-digit numbers ("555-1234")
 * are left out: in prose they are far more often ranges or counts.
 */
const phone = new RegExp(
  [
    String.raw`\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]\d{2,4}){1,4}`,
    String.raw`(?:\b1[\s.-])?\(\d{3}\)\s?\d{3}[\s.-]\d{4}`,
    String.raw`\b(?:1[\s.-])?\d{3}[.-]\d{3}[.-]\d{4}`,
    String.raw`\b(?:1[\s.-])?\d{3}\s\d{3}[\s-]\d{4}(?=\s*(?:$|[^\d\s]))`,
  ].join('|'),
  'g',
);

export function findEmails(text: string): Span[] {
  return spans(text, email);
}

export function findUrls(text: string): Span[] {
  const found: Span[] = [];
  for (const match of text.matchAll(url)) {
    let end = match.index + match[0].length;
    // Prose punctuation after a URL is not part of it; a closing bracket is only when the URL opened one.
    while (end > match.index) {
      const last = text[end - 1]!;
      if (/[.,;:!?'"”’>]/.test(last)) end--;
      else if (last === ')' && !text.slice(match.index, end).includes('(')) end--;
      else break;
    }
    if (end - match.index > 4) found.push({ start: match.index, end });
  }
  return found;
}

export function findPhones(text: string): Span[] {
  const found: Span[] = [];
  for (const match of text.matchAll(phone)) {
    const start = match.index;
    const end = start + match[0].trimEnd().length;
    const before = text[start - 1] ?? ' ';
    const after = text[end] ?? ' ';
    // Part of a longer digit run, an ID or a version number, not a phone number.
    if (/[\p{L}\p{N}_/.-]/u.test(before) && before !== '(' ) continue;
    if (/[\p{N}_/]/u.test(after) || (after === '.' && /\d/.test(text[end + 1] ?? ''))) continue;
    const digits = match[0].replace(/\D/g, '').length;
    if (digits < 10 || digits > 15) continue;
    found.push({ start, end });
  }
  return found;
}

function spans(text: string, pattern: RegExp): Span[] {
  const found: Span[] = [];
  for (const match of text.matchAll(pattern)) found.push({ start: match.index, end: match.index + match[0].length });
  return found;
}
