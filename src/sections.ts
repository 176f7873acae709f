import type { DistillDocument, Section } from './document.js';

/**
 * Cutting a document into sections. Several stages need the same structure
 * (entities per section, a label per section, selection by section), so it
 * is computed once per text and cached on `doc.data`; a stage that changes
 * `doc.value` directly makes it stale, and the next reader cuts again.
 *
 * Structure comes from the format, as the loaders leave it: Markdown (and
 * HTML, loaded as Markdown-ish text) headings, setext headings, numbered and
 * capitalised headings (PDFs and plain text), PDF pages ("\f"), an email's
 * header block, paragraphs. Each section carries the titles of the headings
 * above it, so the flat list is also a tree. A long block is split on
 * sentence boundaries, because some real documents are one line.
 */

/** What sits between two sections in a rendered document. */
export const sectionSeparator = '\n\n';

/** Sections longer than this are split on sentence boundaries, so a one-line document still has units to choose from. */
export const maxSectionChars = 1500;

const markdownHeading = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/;
const setextUnderline = /^[ \t]*(=+|-+)[ \t]*$/;
/** "2.3 Results", "4. Discussion": a number path, then a capitalised title. */
const numberedHeading = /^[ \t]*(\d{1,2}(?:\.\d{1,2}){0,4})\.?[ \t]+(\p{Lu}[^\n]*)$/u;
const listItem = /^\s*([-*+•]|\d+[.)])\s+/;
/**
 * A line that names a term rather than saying something: it opens with an option (`-o`, `--output`) or with
 * an identifier that no prose word looks like (dotted `log.level`, snake `max_retries`, camel `retryDelay`, a call
 * `open()`), and does not end as a sentence does.
 */
const termLine = /^(?:--?[A-Za-z?][\w-]*|[A-Za-z_$][\w$]*(?:[._:][A-Za-z_$<*][\w$<>*-]*)+|[a-z_$]+[A-Z][\w$]*|[A-Za-z_$][\w$]*\(\))(?:[\s,=|(<\[].*)?(?<![.!?;:,])$/;
const headerLine = /^[A-Za-z][\w-]*:[ \t]/;
const headerContinuation = /^[ \t]+\S/;
const emailHeaderNames = /^(from|to|cc|subject|date|reply-to|message-id):/im;

export function sectionsOf(doc: DistillDocument): Section[] {
  if (doc.data.sections && doc.data.sectionsOf === doc.value) return doc.data.sections;
  const sections = sectionize(doc.value);
  doc.data.sections = sections;
  doc.data.sectionsOf = doc.value;
  // Labels and priors belong to the old cut, whose ids the new one reuses for other text.
  if (doc.data.labels) doc.data.labels = {};
  if (doc.data.priors) doc.data.priors = {};
  return sections;
}

/** Replace the document's text with these sections, keeping their ids so labels and entities still refer to them. */
export function setSections(doc: DistillDocument, sections: Section[]): void {
  doc.value = renderSections(sections);
  doc.data.sections = sections;
  doc.data.sectionsOf = doc.value;
}

export function renderSections(sections: readonly Section[]): string {
  return sections.map((section) => section.text).join(sectionSeparator);
}

interface HeadingLine {
  level: number;
  title: string;
}

/**
 * Split text into sections: blank lines and form feeds (PDF pages) separate
 * blocks; a heading line opens a scope until a heading of the same or a
 * higher level. Every section's text is a verbatim slice of `text`.
 */
export function sectionize(text: string): Section[] {
  const sections: Section[] = [];
  const headingStack: HeadingLine[] = [];
  let next = 0;
  const push = (kind: Section['kind'], body: string) => {
    sections.push({ id: `s${next++}`, headings: headingStack.map((h) => h.title), kind, text: body });
  };
  const openHeading = (heading: HeadingLine, line: string) => {
    while (headingStack.length > 0 && headingStack.at(-1)!.level >= heading.level) headingStack.pop();
    push('heading', line);
    headingStack.push(heading);
  };

  const pages = text.split('\f');
  const paged = pages.length > 1;
  let first = true;
  for (const page of pages) {
    const blocks = splitBlocks(page);
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index]!;
      if (first && isEmailHeader(block)) {
        first = false;
        push('part', block);
        continue;
      }
      first = false;
      if (fenceOpen.test(block)) {
        // A fenced code block is code, whatever its lines look like: a `# comment` in it is not a heading.
        for (const piece of splitLong(block)) push('code', piece);
        continue;
      }
      const nextBlock = blocks[index + 1];
      for (const segment of splitHeadings(block, nextBlock)) {
        if (segment.heading) {
          openHeading(segment.heading, segment.text);
          continue;
        }
        // A page with no paragraph breaks is one block: it is the page.
        const kind = paged && segment.text === page.trim() ? 'page' : kindOf(segment.text);
        for (const piece of splitLong(segment.text)) push(kind === 'page' && piece !== segment.text ? 'paragraph' : kind, piece);
      }
    }
  }
  return sections;
}

const fenceOpen = /^[ \t]*(`{3,}|~{3,})/;

/**
 * Blocks are separated by blank lines, except inside a fenced code block
 * (Markdown's ``` or ~~~, and HTML's `<pre>` as loaded), which is one block
 * from its opening fence to its closing one, blank lines and all.
 */
function splitBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    const block = current.join('\n').replace(/^\n+|\s+$/g, '');
    if (block.trim().length > 0) blocks.push(block);
    current = [];
  };
  for (const line of text.split('\n')) {
    if (fence !== undefined) {
      current.push(line);
      if (line.trim().startsWith(fence) && line.trim().replace(/[`~]+/, '') === '') {
        fence = undefined;
        flush();
      }
      continue;
    }
    const opening = fenceOpen.exec(line);
    if (opening) {
      flush();
      fence = opening[1]!;
      current.push(line);
    } else if (/^[ \t]*$/.test(line)) {
      flush();
    } else {
      current.push(line);
    }
  }
  flush();
  return blocks;
}

function isEmailHeader(block: string): boolean {
  const lines = block.split('\n');
  if (lines.length < 2 || !emailHeaderNames.test(block)) return false;
  return lines.every((line) => headerLine.test(line) || headerContinuation.test(line));
}

/** A heading line, by its look alone; `nextBlock` lets a short title-like line count when a longer body follows. */
function headingOf(line: string, alone: boolean, nextBlock: string | undefined): HeadingLine | undefined {
  const markdown = markdownHeading.exec(line);
  if (markdown) return { level: markdown[1]!.length, title: markdown[2]! };
  const trimmed = line.trim();
  if (trimmed.length === 0 || trimmed.length > 80 || /[.,;:!?]$/.test(trimmed)) return undefined;
  const words = trimmed.split(/\s+/).length;
  const numbered = numberedHeading.exec(line);
  if (numbered && words <= 12 && !/[.!?]\s/.test(numbered[2]!)) {
    // One below a level-1 title ("# Report", "ANNUAL REPORT"), so "1 Introduction" nests under it.
    return { level: numbered[1]!.split('.').filter(Boolean).length + 1, title: trimmed };
  }
  // ALL CAPS lines ("INTRODUCTION", "ARTICLE IV. TERMS") are headings in PDFs and plain text; not a bullet
  // ("• LINUX") nor code ("(CAR LIST))"), which open with a mark, not a word.
  // One word must be a word ("CONTENTS"), not a name such as `MAX_RETRIES` or `UTF-8`, which a term list lays out alone.
  if (!/\p{Ll}/u.test(trimmed) && /\p{Lu}{2}/u.test(trimmed) && words <= 12 && !line.includes('|') && /^[\p{L}\p{N}]/u.test(trimmed) && !listItem.test(trimmed) && (words > 1 || /^\p{L}+$/u.test(trimmed))) {
    return { level: 1, title: trimmed };
  }
  // A short capitalised line standing alone above a longer block ("Background"); deepest level so it nests under the rest.
  if (alone && words <= 8 && /^\p{Lu}/u.test(trimmed) && nextBlock !== undefined && nextBlock.length > 2 * trimmed.length && !listItem.test(trimmed)) {
    return { level: 7, title: trimmed };
  }
  // A term standing alone above its description: an option or a name ("log.level", "--output file", "retryDelay"), as a
  // definition list or an option reference lays them out. It heads its description, so the two stay together: the
  // description's sentences are found under its name, and kept with it. Deeper still, under the titles above.
  if (alone && words <= 6 && termLine.test(trimmed) && nextBlock !== undefined && nextBlock.length > 2 * trimmed.length) {
    return { level: 8, title: trimmed };
  }
  return undefined;
}

interface Segment {
  text: string;
  heading?: HeadingLine;
}

/** Cut heading lines out of a block (PDF text has headings inside blocks); the rest stays in verbatim runs of lines. */
function splitHeadings(block: string, nextBlock: string | undefined): Segment[] {
  const lines = block.split('\n');
  if (lines.length === 1) {
    const heading = headingOf(block, true, nextBlock);
    return [heading ? { text: block, heading } : { text: block }];
  }
  const setext = lines.length === 2 ? setextUnderline.exec(lines[1]!) : null;
  if (setext && lines[0]!.trim().length > 0 && !listItem.test(lines[0]!)) {
    return [{ text: block, heading: { level: setext[1]!.startsWith('=') ? 1 : 2, title: lines[0]!.trim() } }];
  }
  // A list or a table keeps its lines together, whatever they look like.
  if (lines.every((line) => listItem.test(line)) || lines.every((line) => line.includes('|') || line.includes('\t'))) return [{ text: block }];
  const segments: Segment[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0 && run.join('').trim()) segments.push({ text: run.join('\n') });
    run = [];
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    // Inside a block a short capitalised line is usually wrapped text, so only marked headings (Markdown, numbered, ALL CAPS) count there.
    const heading = index < lines.length - 1 ? headingOf(line, false, undefined) : markdownHeading.test(line) ? headingOf(line, false, undefined) : undefined;
    if (heading) {
      flush();
      segments.push({ text: line, heading });
    } else {
      run.push(line);
    }
  }
  flush();
  return segments;
}

function kindOf(block: string): Section['kind'] {
  const lines = block.split('\n');
  if (lines.every((line) => listItem.test(line))) return 'list';
  if (lines.length > 1 && lines.every((line) => line.includes('|') || line.includes('\t'))) return 'table';
  if (lines.every((line) => /^\s*>/.test(line))) return 'quote';
  return 'paragraph';
}

/** Split a block that is too long on sentence boundaries, packing whole sentences up to `maxSectionChars`. */
export function splitLong(block: string, limit = maxSectionChars): string[] {
  if (block.length <= limit) return [block];
  const pieces: string[] = [];
  let start = -1;
  let end = -1;
  for (const span of sentenceSpans(block, limit)) {
    if (start >= 0 && span.end - start > limit) {
      pieces.push(block.slice(start, end));
      start = -1;
    }
    if (start < 0) start = span.start;
    end = span.end;
  }
  if (start >= 0) pieces.push(block.slice(start, end));
  return pieces;
}

/** Sentences of `text`, verbatim (only the whitespace between them is dropped). */
export function splitSentences(text: string): string[] {
  return sentenceSpans(text).map((span) => text.slice(span.start, span.end));
}

export interface Span {
  start: number;
  end: number;
}

/** Sentence ends: a terminal mark, optional closing quotes or brackets, then whitespace and a capital, digit, quote or bracket. */
const sentenceEnd = /[.!?]+["'”’)\]]*(\s+)(?=["“‘(\[]?[\p{Lu}\d])/gu;

/** Words that end in a full stop without ending a sentence ("Mr. Smith", "U.S. Army", "No. 5"). */
const abbreviations = new Set(
  (
    'mr mrs ms dr prof st jr sr sen rep gov gen col lt capt sgt rev hon pres vs etc e.g i.e cf al fig figs no nos vol ' +
    'inc ltd co corp bros dept est approx jan feb mar apr jun jul aug sep sept oct nov dec mt ft ave blvd u.s u.k u.n a.m p.m'
  ).split(' '),
);

/**
 * Character spans of the sentences of `text`, in order. Lines are also
 * boundaries when the text is line-structured (lists, headers, PDF lines
 * that end a sentence). A "sentence" longer than `maxChars` (a run-on
 * line with no stops) is cut at clause marks, then at spaces, so there is
 * always a unit small enough to keep; every span is a verbatim slice.
 */
export function sentenceSpans(text: string, maxChars = maxSectionChars): Span[] {
  const spans: Span[] = [];
  const add = (start: number, end: number) => {
    while (start < end && /\s/.test(text[start]!)) start++;
    while (end > start && /\s/.test(text[end - 1]!)) end--;
    if (end <= start) return;
    if (end - start <= maxChars) {
      spans.push({ start, end });
      return;
    }
    for (const piece of cutRunOn(text, start, end, maxChars)) spans.push(piece);
  };

  // One pass of the sentence-end pattern over the whole text, merged with the line ends (no rescans: linear in the text).
  sentenceEnd.lastIndex = 0;
  let match = sentenceEnd.exec(text);
  let from = 0;
  for (const line of lineBreaks(text)) {
    while (match !== null && match.index < line) {
      const gapStart = match.index + match[0].length - match[1]!.length;
      if (!isAbbreviation(text, match.index, gapStart)) {
        add(from, gapStart);
        from = match.index + match[0].length;
      }
      match = sentenceEnd.exec(text);
    }
    if (from < line) add(from, line);
    from = Math.max(from, line);
  }
  return spans;
}

/** Ends of the line-structured parts of `text`: a line break ends a sentence only before a list item, a header or after a terminal mark. */
function lineBreaks(text: string): number[] {
  const ends: number[] = [];
  const lineBreak = /\n/g;
  let match: RegExpExecArray | null;
  while ((match = lineBreak.exec(text)) !== null) {
    const before = text.slice(Math.max(0, match.index - 2), match.index);
    const after = text.slice(match.index + 1, match.index + 80);
    if (/[.!?:;"”)\]]\s*$/.test(before) || listItem.test(after) || headerLine.test(after) || /^\s*$/.test(after.split('\n', 1)[0] ?? '') || /^\s*>/.test(after)) {
      ends.push(match.index);
    }
  }
  ends.push(text.length);
  return ends;
}

/**
 * Whether `left + ' ' + right` splits back into `left` and `right`: the test
 * for joining two sentences that were not adjacent, so the joined text still
 * reads as sentences of the input.
 */
export function isSentenceBoundary(left: string, right: string): boolean {
  const joined = `${left} ${right}`;
  return sentenceSpans(joined).some((span) => span.end === left.trimEnd().length);
}

function isAbbreviation(text: string, markIndex: number, gapStart: number): boolean {
  if (text.slice(markIndex, gapStart) !== '.') return false;
  // Only the word before the mark matters: look back a bounded window, so a long text stays linear.
  const window = text.slice(Math.max(0, markIndex - 32), markIndex);
  const word = (/\S*$/.exec(window)?.[0] ?? '').replace(/^["'“‘(\[]+/, '');
  // Initials ("J. K. Rowling", "U.S.").
  if (/^\p{Lu}$/u.test(word) || /^(\p{L}\.)+\p{L}$/u.test(word)) return true;
  return abbreviations.has(word.toLowerCase());
}

/** Cut an over-long run at clause marks, else at spaces, packing up to `maxChars`. */
function cutRunOn(text: string, start: number, end: number, maxChars: number): Span[] {
  const breaks: number[] = [];
  const clause = /[;,:)\]—–-](\s+)|\s+/g;
  clause.lastIndex = start;
  let match: RegExpExecArray | null;
  while ((match = clause.exec(text)) !== null && match.index < end) breaks.push(match.index + match[0].length);
  const spans: Span[] = [];
  let from = start;
  let last = -1;
  for (const point of breaks) {
    if (point - from > maxChars && last > from) {
      spans.push(trimSpan(text, from, last));
      from = last;
    }
    last = point;
  }
  while (end - from > maxChars) {
    // No whitespace at all (a base64 blob, a URL list): hard cut, still a verbatim slice.
    spans.push(trimSpan(text, from, from + maxChars));
    from += maxChars;
  }
  if (end > from) spans.push(trimSpan(text, from, end));
  return spans.filter((span) => span.end > span.start);
}

function trimSpan(text: string, start: number, end: number): Span {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return { start, end };
}

/**
 * Where each section starts in `text`, the text it was cut from: sections
 * are verbatim slices in order, so one forward search each finds them.
 */
export function sectionOffsets(text: string, sections: readonly Section[]): number[] {
  const offsets: number[] = [];
  let cursor = 0;
  for (const section of sections) {
    const at = text.indexOf(section.text, cursor);
    offsets.push(at);
    if (at >= 0) cursor = at + section.text.length;
  }
  return offsets;
}
