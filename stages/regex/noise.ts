import { removeLineRanges, replaceCounting, unchanged, type RegexRule, type RuleResult } from './engine.js';

/**
 * Noise: machine text that costs many tokens and means nothing to a model
 * (encoded blobs, signatures, opaque identifiers, tracking parameters,
 * markup the loader did not parse).
 */

/** A PGP armour block is never longer than this; an unterminated BEGIN is left alone. */
const maxArmourLines = 400;
const armourBegin = /^-----BEGIN PGP (SIGNATURE|PUBLIC KEY BLOCK|PRIVATE KEY BLOCK|MESSAGE|SIGNED MESSAGE)-----[ \t]*$/;
const armourEnd = /^-----END PGP (SIGNATURE|PUBLIC KEY BLOCK|PRIVATE KEY BLOCK|MESSAGE)-----[ \t]*$/;
const signatureAttachment = /^\[attachment: [^\n]{0,200}\((?:application\/pgp-signature|application\/pkcs7-signature|application\/x-pkcs7-signature)[^\n]{0,60}\)\][ \t]*$/;

function removePgp(text: string): RuleResult {
  const lines = text.split('\n');
  const out: string[] = [];
  let hits = 0;
  let signed = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const begin = armourBegin.exec(line);
    if (begin && begin[1] === 'SIGNED MESSAGE') {
      // The message stays; its armour line and the "Hash:" lines under it go.
      hits++;
      signed = true;
      while (index + 1 < lines.length && /^Hash: [\w, -]{1,60}$/.test(lines[index + 1]!)) index++;
      continue;
    }
    if (begin) {
      let end = -1;
      for (let next = index + 1; next < lines.length && next <= index + maxArmourLines; next++) {
        if (armourEnd.test(lines[next]!)) {
          end = next;
          break;
        }
        if (armourBegin.test(lines[next]!)) break;
      }
      if (end >= 0) {
        hits++;
        signed = false;
        index = end;
        continue;
      }
    }
    if (signatureAttachment.test(line)) {
      hits++;
      continue;
    }
    // Inside a clear-signed message, lines starting with "-" are escaped as "- -".
    if (signed && line.startsWith('- ')) {
      out.push(line.slice(2));
      hits++;
      continue;
    }
    out.push(line);
  }
  return hits === 0 ? unchanged(text) : { text: out.join('\n'), hits };
}

const base64Line = /^[A-Za-z0-9+/]{40,120}={0,2}[ \t]*$/;
const base64Tail = /^[A-Za-z0-9+/]{1,120}={0,2}[ \t]*$/;
/** One very long unbroken run, such as an inline attachment or a data: URI payload. */
const base64Run = /(?<![A-Za-z0-9+/=])(?:data:[a-z]{1,20}\/[\w.+-]{1,60}(?:;[\w=.-]{1,40}){0,4};base64,)?[A-Za-z0-9+/]{200,}={0,2}(?![A-Za-z0-9+/=])/g;

function looksEncoded(run: string): boolean {
  // Real base64 mixes cases and digits; a long run of one kind is a word, a DNA string, a rule line.
  return /[a-z]/.test(run) && /[A-Z]/.test(run) && /\d/.test(run);
}

function removeBase64(text: string): RuleResult {
  const blocks = removeLineRanges(text, (lines) => {
    const ranges: Array<[number, number]> = [];
    let index = 0;
    while (index < lines.length) {
      if (!base64Line.test(lines[index]!)) {
        index++;
        continue;
      }
      let end = index;
      while (end < lines.length && base64Line.test(lines[end]!)) end++;
      if (end < lines.length && base64Tail.test(lines[end]!)) end++;
      // Three lines of 40+ characters with no space: prose and code never look like that.
      if (end - index >= 3 && looksEncoded(lines.slice(index, end).join(''))) ranges.push([index, end]);
      index = end;
    }
    return ranges;
  });
  const runs = replaceCounting(blocks.text, base64Run, (run) => (looksEncoded(run) ? '' : run));
  return { text: runs.text, hits: blocks.hits + runs.hits };
}

const uuBegin = /^begin [0-7]{3,4} [^\n]{1,200}$/;
const uuLine = /^[\x20-\x60]{1,62}$/;

function removeUuencode(text: string): RuleResult {
  return removeLineRanges(text, (lines) => {
    const ranges: Array<[number, number]> = [];
    let index = 0;
    while (index < lines.length) {
      if (!uuBegin.test(lines[index]!)) {
        index++;
        continue;
      }
      let end = index + 1;
      while (end < lines.length && lines[end] !== 'end' && uuLine.test(lines[end]!)) end++;
      // Only a complete block (begin ... end) is uuencode; "begin 644 file" alone may be a sentence about it.
      if (end < lines.length && lines[end] === 'end' && end - index >= 2) {
        ranges.push([index, end + 1]);
        index = end + 1;
      } else index++;
    }
    return ranges;
  });
}

/** A label right before an id makes it a fact ("MD5 (file) = 459c..."), not noise. */
const idLabel = /\b(?:md5|sha-?\d*|checksum|hash|digest|commit|fingerprint|key|revision|rev|uuid|guid)\b/i;

/** A line that is nothing but 32+ hex digits (MD5, SHA-1, SHA-256) or a UUID, blanks aside. */
const idLine = /^[ \t]*(?:[0-9a-f]{32,}|[0-9A-F]{32,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})[ \t\r]*$/;

/**
 * Ids alone on a line go (the line is left blank); an id inside a sentence
 * stays, since an order number or a commit may be what the task asks for.
 */
function removeIds(text: string): RuleResult {
  let hits = 0;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.length > 200 || !idLine.test(line)) continue;
    const id = line.trim();
    if (!/\d/.test(id) || !/[a-f]/i.test(id)) continue;
    // A label on the line above makes it a fact ("SHA-256:" then the digest), not noise.
    if (index > 0 && idLabel.test(lines[index - 1]!.slice(-40))) continue;
    lines[index] = '';
    hits++;
  }
  return hits === 0 ? unchanged(text) : { text: lines.join('\n'), hits };
}

/** Query parameters that only tell the sender who clicked. */
const trackingParameter =
  /^(?:utm_[a-z_]{1,30}|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|ttclid|li_fat_id|igshid|mc_cid|mc_eid|_hsenc|_hsmi|__hstc|__hssc|__hsfp|hsctatracking|mkt_tok|oly_enc_id|oly_anon_id|vero_id|vero_conv|_ga|_gl|s_cid|wickedid|rb_clickid|ncid|cmpid|sc_cid)$/i;
const url = /\bhttps?:\/\/[^\s<>"'`()[\]{}]{1,2048}/g;

function stripTracking(link: string): string {
  const query = link.indexOf('?');
  if (query < 0) return link;
  const hash = link.indexOf('#', query);
  const base = link.slice(0, query);
  const search = link.slice(query + 1, hash < 0 ? undefined : hash);
  const fragment = hash < 0 ? '' : link.slice(hash);
  const parameters = search.split('&');
  const kept = parameters.filter((parameter) => !trackingParameter.test(parameter.split('=', 1)[0]!));
  if (kept.length === parameters.length) return link;
  const rest = kept.filter((parameter) => parameter.length > 0).join('&');
  return base + (rest ? `?${rest}` : '') + fragment;
}

/** Tags a loader may leave behind; "<T>" in code or "<kre@host>" in mail are not among them. */
/** A tag in quotes ("'<br>'", "`<b>`") is being talked about, not leftover markup. */
const htmlTag =
  /(?<!['"`‘“])<\/?(?:a|abbr|b|big|blockquote|body|br|center|col|colgroup|dd|div|dl|dt|em|font|form|h[1-6]|head|hr|html|i|img|input|label|li|link|meta|nobr|o:p|ol|p|small|span|strike|strong|sub|sup|table|tbody|td|tfoot|th|thead|title|tr|tt|u|ul|wbr)(?=[\s/>])[^<>]{0,1000}>/gi;
const scriptOrStyleOpen = /<(script|style)\b[^<>]{0,1000}>/gi;
const scriptClose = /<\/script[ \t]*>/gi;
const styleClose = /<\/style[ \t]*>/gi;

/**
 * Remove spans from an opening match to the next closing match. Searching
 * forward with indexOf or a sticky lastIndex, never backtracking: when no
 * closing mark is left, no later opening can be closed either, so stop.
 */
function removeSpans(text: string, open: RegExp, close: (opening: RegExpExecArray) => RegExp): RuleResult {
  let out = '';
  let cursor = 0;
  let hits = 0;
  open.lastIndex = 0;
  for (let opening = open.exec(text); opening; opening = open.exec(text)) {
    const closing = close(opening);
    closing.lastIndex = opening.index + opening[0].length;
    const end = closing.exec(text);
    if (!end) break;
    out += text.slice(cursor, opening.index);
    cursor = end.index + end[0].length;
    open.lastIndex = cursor;
    hits++;
  }
  return hits === 0 ? unchanged(text) : { text: out + text.slice(cursor), hits };
}

function removeComments(text: string): RuleResult {
  let out = '';
  let cursor = 0;
  let hits = 0;
  for (let start = text.indexOf('<!--'); start >= 0; start = text.indexOf('<!--', cursor)) {
    const end = text.indexOf('-->', start + 4);
    if (end < 0) break;
    out += text.slice(cursor, start);
    cursor = end + 3;
    hits++;
  }
  return hits === 0 ? unchanged(text) : { text: out + text.slice(cursor), hits };
}
/** Entities that are always encoding leftovers. */
const entity = /&(?:amp|quot|apos|mdash|ndash|hellip|lsquo|rsquo|ldquo|rdquo|copy|reg|trade|#\d{1,6}|#x[0-9a-f]{1,5});/gi;
/** Entities that prose about HTML mentions ("I forgot about &nbsp;"); decoded only where markup was found. */
const markupEntity = /&(?:nbsp|lt|gt);/gi;
const entities: Record<string, string> = {
  '&nbsp;': ' ', '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'", '&mdash;': '—', '&ndash;': '–',
  '&hellip;': '…', '&lsquo;': '‘', '&rsquo;': '’', '&ldquo;': '“', '&rdquo;': '”', '&copy;': '©', '&reg;': '®', '&trade;': '™',
};

function decodeEntity(match: string): string {
  const named = entities[match.toLowerCase()];
  if (named !== undefined) return named;
  const code = match[2] === 'x' || match[2] === 'X' ? Number.parseInt(match.slice(3, -1), 16) : Number.parseInt(match.slice(2, -1), 10);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
}

function removeMarkup(text: string): RuleResult {
  // Cheap exit: most documents have no markup at all.
  if (!text.includes('<') && !text.includes('&')) return unchanged(text);
  const blocks = removeSpans(text, scriptOrStyleOpen, (opening) => (opening[1]!.toLowerCase() === 'script' ? scriptClose : styleClose));
  const comments = removeComments(blocks.text);
  const tags = replaceCounting(comments.text, htmlTag, '');
  const decoded = replaceCounting(tags.text, entity, decodeEntity);
  const markup = blocks.hits + comments.hits + tags.hits > 0;
  // Decoding "&lt;" where no markup was found could turn a text about HTML into fake tags.
  const spaces = markup ? replaceCounting(decoded.text, markupEntity, decodeEntity) : unchanged(decoded.text);
  return { text: spaces.text, hits: blocks.hits + comments.hits + tags.hits + decoded.hits + spaces.hits };
}

/**
 * Image references an HTML-to-text conversion leaves: "[http://host/b.gif]"
 * (spacers, logos, tracking pixels) and Markdown images without alt text.
 * An image with alt text keeps it: the alt may be the only caption.
 */
const bracketedImage = /\[https?:\/\/[^\s\][]{1,500}?\.(?:gif|jpe?g|png|bmp|webp|svg|ico)(?:\?[^\s\][]{0,300})?\]/gi;
const markdownImage = /!\[([^\]\n]{0,200})\]\([^()\s]{1,1000}\)/g;

function removeImageLinks(text: string): RuleResult {
  if (!text.includes('[')) return unchanged(text);
  const bracketed = replaceCounting(text, bracketedImage, '');
  const images = replaceCounting(bracketed.text, markdownImage, (_image, alt) => alt.trim());
  return { text: images.text, hits: bracketed.hits + images.hits };
}

export const noiseRules: readonly RegexRule[] = [
  {
    name: 'regex:noise-pgp',
    family: 'noise',
    description: 'PGP signature, key and message blocks, clear-sign armour and dash escapes, signature attachments',
    hint: /-----BEGIN PGP |\[attachment: /,
    apply: removePgp,
  },
  {
    name: 'regex:noise-base64',
    family: 'noise',
    description: 'base64 blobs: three or more lines of unbroken base64, and runs of 200+ base64 characters (data: URIs)',
    apply: removeBase64,
  },
  {
    name: 'regex:noise-uuencode',
    family: 'noise',
    description: 'uuencoded attachments ("begin 644 name" ... "end")',
    hint: /^begin [0-7]/m,
    apply: removeUuencode,
  },
  {
    name: 'regex:noise-markup',
    family: 'noise',
    description: 'leftover HTML: script and style blocks, comments, known tags; entities decoded',
    apply: removeMarkup,
  },
  {
    name: 'regex:noise-image-links',
    family: 'noise',
    description: 'image references left by HTML conversion ("[http://host/spacer.gif]"); Markdown images keep their alt text',
    apply: removeImageLinks,
  },
  {
    name: 'regex:noise-tracking-parameters',
    family: 'noise',
    description: 'tracking query parameters (utm_*, fbclid, gclid, mc_eid, ...) stripped from URLs',
    hint: /https?:\/\/[^\s?]{1,2048}\?/,
    apply: (text) => replaceCounting(text, url, stripTracking),
  },
  {
    name: 'regex:noise-ids',
    family: 'noise',
    description: 'long hex identifiers (32+ digits: hashes, message ids) and UUIDs alone on a line (inside a sentence they stay: they may be the answer)',
    apply: removeIds,
  },
];
