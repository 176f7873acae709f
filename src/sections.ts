import type { DistillDocument, Section } from './document.js';

/**
 * Cutting a document into sections. Several stages need the same structure
 * (entities per section, a label per section, selection by section), so it
 * is computed once per text and cached on `doc.data`; a stage that changes
 * `doc.value` directly makes it stale, and the next reader cuts again.
 */

/** What sits between two sections in a rendered document. */
export const sectionSeparator = '\n\n';

/** Sections longer than this are split on sentence boundaries, so a one-line document still has units to choose from. */
export const maxSectionChars = 1500;

const markdownHeading = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/;

export function sectionsOf(doc: DistillDocument): Section[] {
  if (doc.data.sections && doc.data.sectionsOf === doc.value) return doc.data.sections;
  const sections = sectionize(doc.value);
  doc.data.sections = sections;
  doc.data.sectionsOf = doc.value;
  // Labels belong to the old cut; keep only those whose section survived unchanged.
  if (doc.data.labels) doc.data.labels = {};
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

/** Split text into sections: blank lines and form feeds (PDF pages) separate blocks; Markdown headings open a scope. */
export function sectionize(text: string): Section[] {
  const sections: Section[] = [];
  const headingStack: { level: number; title: string }[] = [];
  let next = 0;
  const push = (kind: Section['kind'], body: string) => {
    sections.push({ id: `s${next++}`, headings: headingStack.map((h) => h.title), kind, text: body });
  };

  for (const block of splitBlocks(text)) {
    const firstLine = block.split('\n', 1)[0] ?? '';
    const heading = markdownHeading.exec(firstLine);
    if (heading && !block.includes('\n')) {
      const level = heading[1]!.length;
      while (headingStack.length > 0 && headingStack.at(-1)!.level >= level) headingStack.pop();
      push('heading', block);
      headingStack.push({ level, title: heading[2]! });
      continue;
    }
    for (const piece of splitLong(block)) push(kindOf(piece), piece);
  }
  return sections;
}

function splitBlocks(text: string): string[] {
  return text
    .split(/\n[ \t]*\n+|\f/)
    .map((block) => block.replace(/^\n+|\s+$/g, ''))
    .filter((block) => block.trim().length > 0);
}

function kindOf(block: string): Section['kind'] {
  const lines = block.split('\n');
  if (lines.every((line) => /^\s*([-*+•]|\d+[.)])\s+/.test(line))) return 'list';
  if (lines.length > 1 && lines.every((line) => line.includes('|') || line.includes('\t'))) return 'table';
  if (lines.every((line) => /^\s*>/.test(line))) return 'quote';
  if (block.startsWith('```')) return 'code';
  return 'paragraph';
}

/** Sentence ends: a terminal mark, optional closing quote or bracket, then space and a capital, digit or quote. */
const sentenceEnd = /(?<=[.!?]["'”’)\]]?)\s+(?=["“‘(\[]?[A-Z0-9])/g;

/** Split a block that is too long on sentence boundaries, packing whole sentences up to `maxSectionChars`. */
export function splitLong(block: string, limit = maxSectionChars): string[] {
  if (block.length <= limit) return [block];
  const sentences = splitSentences(block);
  const pieces: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (current && current.length + 1 + sentence.length > limit) {
      pieces.push(current);
      current = sentence;
    } else {
      current = current ? `${current} ${sentence}` : sentence;
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

/** Sentences of `text`, verbatim (only the whitespace between them is dropped). */
export function splitSentences(text: string): string[] {
  return text
    .split(sentenceEnd)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}
