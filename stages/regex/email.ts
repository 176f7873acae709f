import {
  blocksOf,
  isBlank,
  maxFurnitureLine,
  onEmailBody,
  removeLineRanges,
  splitEmail,
  unchanged,
  type Block,
  type RegexRule,
  type RuleResult,
} from './engine.js';

/**
 * Email: what mail transport and mail clients add around what the sender
 * wrote. These rules run only on emails (the loader's format, or text that
 * starts with a header block) and, except the header rule, only on the body.
 */

/** The headers a reader (and a model) needs: who, to whom, when, about what. */
const keptHeaders = /^(?:from|to|cc|date|subject):/i;

function removeTransportHeaders(text: string): RuleResult {
  const { head, body } = splitEmail(text);
  const lines = head.split('\n');
  const kept: string[] = [];
  let hits = 0;
  let keeping = false;
  for (const line of lines) {
    if (line === '') {
      kept.push(line);
      continue;
    }
    // Folded continuation lines belong to the header above them.
    if (/^[ \t]/.test(line)) {
      if (keeping) kept.push(line);
      continue;
    }
    keeping = keptHeaders.test(line);
    if (keeping) kept.push(line);
    else hits++;
  }
  return hits === 0 ? unchanged(text) : { text: kept.join('\n') + body, hits };
}

/** A quoted line: `>` quoting, possibly nested and indented. */
const quotedLine = /^[ \t]{0,8}>/;
/** "On Tue, 20 Aug 2002, Al White wrote:", "Al white wrote:", "kre said:", "Quoting Bob:". */
const attributionEnd = /(?:wrote|writes|said|says|a écrit|schrieb)[ \t]*:[ \t]*$|^Quoting [^\n]{1,120}:[ \t]*$/i;
const attributionStart = /^[ \t]*On [^\n]{1,200}$/;
const originalMessage = /^[ \t]*-{2,}[ \t]*(?:Original Message|Reply Message|Ursprüngliche Nachricht)[ \t]*-{2,}[ \t]*$/i;
/** Outlook's reply header: "From: … Sent: … To: … Subject:" starting the quoted part. */
const outlookFrom = /^[ \t]*\*?From:\*?[ \t]+\S/;
const outlookSent = /^[ \t]*\*?Sent:\*?[ \t]+\S/;

function nextNonBlank(lines: readonly string[], index: number, limit = 3): number {
  for (let next = index + 1; next < lines.length && next <= index + limit; next++) if (!isBlank(lines[next]!)) return next;
  return -1;
}

const pipeQuoted = /^[ \t]{0,4}\|/;

/** The start of a two-line attribution ("On Tue, 20 Aug 2002 22:51:52 EDT,\nValdis wrote:"), or the line itself. */
function attributionStartOf(lines: readonly string[], index: number): number {
  const previous = lines[index - 1];
  return previous !== undefined && previous.length <= 200 && attributionStart.test(previous) && !/[.!?]$/.test(previous.trim()) ? index - 1 : index;
}

/** End (exclusive) of the run of lines that `quoted` accepts from `start`, blank lines inside the run included. */
function quoteEnd(lines: readonly string[], start: number, quoted: RegExp): number {
  let end = start;
  while (end < lines.length && (quoted.test(lines[end]!) || (isBlank(lines[end]!) && quoted.test(lines[end + 1] ?? '')))) end++;
  return end;
}

/**
 * For each line, whether a reply is written between quoted lines somewhere
 * below it (a ">" line whose next non-blank line is not quoted). Computed
 * once, backwards, so that many markers in one message stay linear.
 */
function inlineAnswersBelow(lines: readonly string[]): boolean[] {
  const below = new Array<boolean>(lines.length + 1).fill(false);
  let nextNonBlankQuoted: boolean | undefined;
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!;
    const quoted = quotedLine.test(line);
    below[index] = below[index + 1]! || (quoted && nextNonBlankQuoted === false);
    if (!isBlank(line)) nextNonBlankQuoted = quoted;
  }
  return below;
}

function removeQuotedReplies(body: string): RuleResult {
  return removeLineRanges(body, (lines) => {
    const ranges: Array<[number, number]> = [];
    const push = (start: number, end: number) => {
      const last = ranges.at(-1);
      if (last && last[1] >= start) last[1] = Math.max(last[1], end);
      else ranges.push([start, end]);
    };
    let inline: boolean[] | undefined;
    let wroteAbove = false;
    let index = 0;
    while (index < lines.length) {
      const line = lines[index]!;
      // An Outlook-style reply quotes everything below the marker, unprefixed.
      if (line.length <= 80 && (originalMessage.test(line) || (outlookFrom.test(line) && outlookSent.test(lines[index + 1] ?? '')))) {
        inline ??= inlineAnswersBelow(lines);
        if (wroteAbove && !inline[index + 1]) {
          push(index, lines.length);
          break;
        }
        // Answers written inside the quoted message (or nothing above it): only the marker and the quoted header go.
        let end = index + 1;
        // The quoted header is the paragraph under the marker that starts with "From:" (its lines wrap freely).
        if (outlookFrom.test(lines[end] ?? '') || outlookFrom.test(line)) while (end < lines.length && end <= index + 8 && !isBlank(lines[end]!)) end++;
        push(index, end);
        index = end;
        continue;
      }
      if (quotedLine.test(line)) {
        const end = quoteEnd(lines, index, quotedLine);
        push(index, end);
        index = end;
        continue;
      }
      // "X wrote:" goes with the quote under it; a "|" block counts as a quote only there (alone it may be a table).
      if (line.length <= maxFurnitureLine && attributionEnd.test(line)) {
        const next = nextNonBlank(lines, index);
        const quoted = next < 0 ? undefined : quotedLine.test(lines[next]!) ? quotedLine : pipeQuoted.test(lines[next]!) ? pipeQuoted : undefined;
        if (quoted) {
          const end = quoteEnd(lines, next, quoted);
          push(attributionStartOf(lines, index), end);
          index = end;
          continue;
        }
      }
      if (!isBlank(line)) wroteAbove = true;
      index++;
    }
    return ranges;
  });
}

/** "-- " (RFC 3676), or "--" as many clients send it; "- --" is the PGP dash-escaped form. */
const signatureDelimiter = /^(?:- )?--[ \t]?$/;
const longSignature = 25;

function removeSignature(body: string): RuleResult {
  return removeLineRanges(body, (lines) => {
    // Non-blank lines after each line, counted once so that many delimiters stay linear.
    const after = new Array<number>(lines.length + 1).fill(0);
    for (let index = lines.length - 1; index >= 0; index--) after[index] = after[index + 1]! + (isBlank(lines[index]!) ? 0 : 1);
    for (let index = 0; index < lines.length; index++) {
      if (!signatureDelimiter.test(lines[index]!)) continue;
      const nonBlank = after[index + 1]!;
      const strict = lines[index]!.endsWith(' ');
      // A signature is short and ends the message; a long tail after "--" is more message (a digest, a forward).
      if (nonBlank <= (strict ? longSignature : 10)) return [[index, lines.length]];
      if (!strict) continue;
      let end = index + 1;
      while (end < lines.length && end <= index + 10 && !isBlank(lines[end]!)) end++;
      return [[index, end]];
    }
    return [];
  });
}

const listFooterMark = /mailing list|mailman\/listinfo|listinfo|list-?serv|majordomo|Yahoo! Groups|groups\.yahoo\.com|lists\.sourceforge\.net|(?:un)?subscri(?:be|ption)|list (?:maintainer|archive|admin)/i;
const separatorLine = /^[ \t]*[_=~*-]{10,}[ \t]*$/;
const linkOrAddress = /https?:\/\/|mailto:|\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b/;

function isListFooter(block: Block): boolean {
  if (block.lines.length > 10) return false;
  const text = block.lines.join('\n');
  if (text.length > 1200 || !listFooterMark.test(text)) return false;
  const marks = block.lines.filter((line) => listFooterMark.test(line)).length;
  // Footers are mostly list furniture: a separator, a link, the list's name; a paragraph that mentions a list once is prose.
  return linkOrAddress.test(text) && (separatorLine.test(block.lines[0]!) || marks * 2 >= block.lines.length || block.lines.length <= 3);
}

function removeListFooters(body: string): RuleResult {
  return removeLineRanges(body, (lines) => {
    const blocks = blocksOf(lines);
    const ranges: Array<[number, number]> = [];
    // Footers sit at the end: walk back from the last paragraph while paragraphs look like list furniture.
    for (let index = blocks.length - 1; index >= 0 && index >= blocks.length - 4; index--) {
      const block = blocks[index]!;
      if (isListFooter(block)) ranges.unshift([block.start, block.end]);
      else if (block.lines.every((line) => separatorLine.test(line))) ranges.unshift([block.start, block.end]);
      else break;
    }
    // A trailing footer that only removed separators is not a footer.
    if (ranges.length > 0 && ranges.every(([start, end]) => lines.slice(start, end).every((line) => separatorLine.test(line)))) return [];
    return ranges;
  });
}

/**
 * A line that opens subscription instructions. Only the start of a line
 * counts: prose that argues about unsubscribing mentions the word in the
 * middle of a sentence, instructions start with it.
 */
const unsubscribeLead =
  /^[ \t*>#-]{0,4}(?:unsubscribe\b|to (?:unsubscribe|be removed|remove yourself|stop receiving|leave (?:the|this) list|change your (?:subscription|e-?mail|settings|preferences)|opt[ -]out|update your (?:subscription|preferences))|if you (?:no longer|do not|don't|would (?:rather|prefer) not) (?:wish|want|like)? ?to (?:receive|continue|get|be on)|you (?:are (?:currently )?subscribed|are receiving this|received this (?:e-?mail|message) because)|this (?:e-?mail|message|newsletter) was sent to|click here to (?:unsubscribe|be removed|opt[ -]out)|manage (?:your )?(?:subscriptions?|preferences))/i;

function removeUnsubscribe(body: string): RuleResult {
  return removeLineRanges(body, (lines) => {
    const ranges: Array<[number, number]> = [];
    for (const block of blocksOf(lines)) {
      if (block.lines.length > 8 || !block.lines.some((line) => line.length <= 300 && unsubscribeLead.test(line))) continue;
      const text = block.lines.join('\n');
      // Instructions say where to go: a link or an address.
      if (text.length <= 900 && linkOrAddress.test(text)) ranges.push([block.start, block.end]);
    }
    return ranges;
  });
}

/** What only a disclaimer says: who the message is for, and what to do if you are not them. */
const disclaimerStrong =
  /\bintended (?:solely |only |exclusively )?(?:for )?(?:the )?(?:(?:sole |exclusive )?use of )?(?:the )?(?:addressee|(?:intended|named) recipient|individual|person|entity)|\breceived this (?:e-?mail|message|communication|transmission)?[^\n.]{0,40}\bin error|\bif you are not the (?:intended|named) (?:recipient|addressee)/i;
/** Words disclaimers use, but so does prose (even prose about disclaimers): three different ones are needed. */
const disclaimerWeak = [/\bconfidential/i, /\bprivileged\b/i, /\bdisclaimer\b/i, /\bviews (?:and opinions )?expressed\b/i, /\bnot necessarily (?:represent|reflect)/i, /\bunauthori[sz]ed (?:use|disclosure|copying)/i, /\bstrictly prohibited\b/i];

function isDisclaimer(text: string): boolean {
  if (disclaimerStrong.test(text)) return true;
  let weak = 0;
  for (const word of disclaimerWeak) if (word.test(text) && ++weak >= 3) return true;
  return false;
}

const disclaimerHeading = /^[ \t]*(?:e-?mail |legal |confidentiality )?(?:disclaimer|notice)[ \t]*:?[ \t]*$/i;

function removeDisclaimers(body: string): RuleResult {
  return removeLineRanges(body, (lines) => {
    const blocks = blocksOf(lines);
    const ranges: Array<[number, number]> = [];
    blocks.forEach((block, index) => {
      if (block.lines.length > 40) return;
      // Wrapped lines keep their trailing spaces until layout runs; trimming them lets a phrase match across a wrap.
      const text = block.lines.map((line) => line.trim()).join(' ');
      if (!isDisclaimer(text)) return;
      const last = ranges.at(-1);
      // Take the "DISCLAIMER" heading and the separators above it along (up to two short blocks).
      const above: Array<[number, number]> = [];
      for (let back = index - 1; back >= 0 && back >= index - 2; back--) {
        const previous = blocks[back]!;
        if (last && last[1] > previous.start) break;
        if (previous.lines.length > 2 || !previous.lines.every((line) => disclaimerHeading.test(line) || separatorLine.test(line))) break;
        above.unshift([previous.start, previous.end]);
      }
      ranges.push(...above, [block.start, block.end]);
    });
    return ranges;
  });
}

const mimeBoundary = /^--(?:[=_]{1,4}[\w=.'+-]{4,70}|[\w.'+-]{0,20}(?:NextPart|Boundary|_Part_|=_)[\w=.'+-]{0,70})(?:--)?[ \t]*$/i;
const mimeHeader = /^Content-(?:Type|Transfer-Encoding|Disposition|ID|Description|Class):[ \t]/i;
const mimePreamble = /^[ \t]*This is a (?:multi-?part|MIME[- ]encoded)[^\n]{0,80}$/i;

function removeMimeLeftovers(body: string): RuleResult {
  return removeLineRanges(body, (lines) => {
    const ranges: Array<[number, number]> = [];
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!;
      if (line.length <= 120 && (mimeBoundary.test(line) || mimeHeader.test(line) || mimePreamble.test(line))) ranges.push([index, index + 1]);
    }
    return ranges;
  });
}

const onEmail = (environment: { email: boolean }) => environment.email;

export const emailRules: readonly RegexRule[] = [
  {
    name: 'regex:email-transport-headers',
    family: 'email',
    description: 'transport and MTA headers (Received, Return-Path, X-*, List-*, Message-ID, MIME ...); From, To, Cc, Date and Subject are kept',
    appliesTo: onEmail,
    apply: removeTransportHeaders,
  },
  {
    name: 'regex:email-mime-leftovers',
    family: 'email',
    description: 'MIME boundaries, part headers and "This is a multi-part message" lines left in a body',
    hint: /^(?:--|Content-|[ \t]*This is a )/im,
    appliesTo: onEmail,
    apply: (text) => onEmailBody(text, removeMimeLeftovers),
  },
  {
    name: 'regex:email-quoted-replies',
    family: 'email',
    label: 'quoted',
    description: 'quoted text of earlier messages with its "On ... wrote:" line: ">" lines, "|" blocks under an attribution, "-----Original Message-----" tails',
    appliesTo: onEmail,
    apply: (text) => onEmailBody(text, removeQuotedReplies),
  },
  {
    name: 'regex:email-signature',
    family: 'email',
    label: 'signature',
    description: 'signature blocks after a "-- " line',
    hint: /^(?:- )?--[ \t]?$/m,
    appliesTo: onEmail,
    apply: (text) => onEmailBody(text, removeSignature),
  },
  {
    name: 'regex:email-list-footer',
    family: 'email',
    label: 'footer',
    description: 'mailing-list footers at the end of a message (list name, listinfo link, subscription help)',
    appliesTo: onEmail,
    apply: (text) => onEmailBody(text, removeListFooters),
  },
  {
    name: 'regex:email-unsubscribe',
    family: 'email',
    label: 'footer',
    description: 'short paragraphs telling how to unsubscribe, with a link or an address',
    hint: /unsubscribe|to be removed|remove yourself|stop receiving|leave (?:the|this) list|change your|opt[ -]out|update your|if you|you are|you received|was sent to|click here|manage/i,
    appliesTo: onEmail,
    apply: (text) => onEmailBody(text, removeUnsubscribe),
  },
  {
    name: 'regex:email-disclaimer',
    family: 'email',
    label: 'legal',
    description: 'confidentiality disclaimers ("intended recipient", "received this in error") and their heading',
    hint: /intended|in error|if you are not|confidential|privileged|disclaimer|views|not necessarily|unauthori|prohibited/i,
    appliesTo: onEmail,
    apply: (text) => onEmailBody(text, removeDisclaimers),
  },
];
