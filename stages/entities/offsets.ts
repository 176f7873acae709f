/**
 * Map offsets in a section's text to offsets in the document text the
 * section was cut from. Sections are verbatim except for whitespace: the
 * sectioniser trims blocks and joins long-block sentences with one space,
 * so the map is a list of anchors where the two texts re-synchronise.
 */

export interface SectionLocation {
  /** Pairs of [section offset, document offset], ascending; between anchors the texts run in step. */
  anchors: [number, number][];
  /** Where the section ends in the document. */
  end: number;
}

/**
 * Locate each section in `value`, in order. A section that cannot be found
 * (the text changed under it) gets `undefined`; its entities then carry only
 * section offsets.
 */
export function locateSections(value: string, sections: readonly string[]): (SectionLocation | undefined)[] {
  const located: (SectionLocation | undefined)[] = [];
  let cursor = 0;
  for (const text of sections) {
    const location = locate(value, text, cursor);
    located.push(location);
    if (location) cursor = location.end;
  }
  return located;
}

function locate(value: string, text: string, from: number): SectionLocation | undefined {
  if (text.length === 0) return undefined;
  const exact = value.indexOf(text, from);
  if (exact >= 0) return { anchors: [[0, exact]], end: exact + text.length };
  // Fall back to a whitespace-tolerant walk from the first line of the section.
  const head = text.slice(0, Math.min(text.length, 32)).split(/\s/, 1)[0] ?? '';
  const start = head ? value.indexOf(head, from) : -1;
  if (start < 0) return undefined;
  const anchors: [number, number][] = [[0, start]];
  let i = 0;
  let j = start;
  while (i < text.length) {
    if (j >= value.length) return undefined;
    if (text[i] === value[j]) {
      i++;
      j++;
      continue;
    }
    if (/\s/.test(text[i]!) || /\s/.test(value[j]!)) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      while (j < value.length && /\s/.test(value[j]!)) j++;
      anchors.push([i, j]);
      continue;
    }
    return undefined;
  }
  return { anchors, end: j };
}

/** The document offset of a section offset. */
export function toDocumentOffset(location: SectionLocation, offset: number): number {
  let anchor = location.anchors[0]!;
  for (const candidate of location.anchors) {
    if (candidate[0] > offset) break;
    anchor = candidate;
  }
  return anchor[1] + (offset - anchor[0]);
}
