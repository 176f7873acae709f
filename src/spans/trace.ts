/**
 * Span provenance, opt-in (`spans: true`, which `--report` sets): for one
 * document, which characters of the text as loaded are still in its current
 * text, which a stage removed and why (the regex rule, the classifier
 * label, "not selected (score …)", "over budget"), and what text a stage
 * added (a rewrite, a separator). The HTML report draws the document view
 * from it.
 *
 * It lives on `doc.data.spans` as plain data, so it crosses to worker
 * threads with the document. The runner brings it up to date after every
 * stage (`syncSpans`); a stage that knows why it removed what it removed
 * says so in `doc.data.spanHints` first, and the regex stage records each
 * rule's edit itself. Whatever no stage explained is found by a diff and
 * credited to the stage. By construction the kept and added pieces, in
 * order, are the current text: the report's kept text is the record's
 * `distilled`, exactly.
 */
import type { DistillDocument } from '../document.js';
import { diffText } from './diff.js';

/**
 * One piece of the current text, in order: a kept slice of the text as
 * loaded, a removed slice of it (with the index of its reason), or text
 * a stage added.
 */
export type Piece = [kind: 0, start: number, end: number] | [kind: 1, start: number, end: number, reason: number] | [kind: 2, text: string, reason: number];

export interface SpanTrace {
  pieces: Piece[];
  /** Reasons, each once; pieces refer to them by index. */
  reasons: string[];
  /** Entities in the text as loaded: start, end, type. Set once, after the stage that found them. */
  entities?: [number, number, string][];
}

/** A range of the current text that a stage removed, and why. */
export interface RemovalHint {
  start: number;
  end: number;
  reason: string;
}

declare module '../document.js' {
  interface DataMap {
    spans?: SpanTrace;
    /** What the running stage removed and why, in its input's offsets; the runner consumes them (`syncSpans`). */
    spanHints?: RemovalHint[];
  }
}

export function startTrace(original: string): SpanTrace {
  return { pieces: original.length > 0 ? [[0, 0, original.length]] : [], reasons: [] };
}

/** The text the trace says the document holds now. */
export function tracedText(trace: SpanTrace, original: string): string {
  let text = '';
  for (const piece of trace.pieces) {
    if (piece[0] === 0) text += original.slice(piece[1], piece[2]);
    else if (piece[0] === 2) text += piece[1];
  }
  return text;
}

/**
 * Record that the current text became `after`: first the hinted removals
 * (offsets in the current text), then whatever a diff finds, credited to
 * `reason`. A diff deletion next to a hinted one (the blank line after a
 * removed paragraph) takes the hint's reason.
 */
export function recordEdit(trace: SpanTrace, original: string, after: string, reason: string, hints: readonly RemovalHint[] = []): void {
  const fresh = new Set<Piece>();
  if (hints.length > 0) trace.pieces = applyOps(trace, hintOps(trace, hints, tracedText(trace, original).length), fresh);
  const before = tracedText(trace, original);
  if (before !== after) {
    const credit = reasonIndex(trace, reason);
    const ops = diffText(before, after).map((op): Op => (op.kind === 'delete' ? { ...op, reason: credit, adopt: true } : op.kind === 'insert' ? { ...op, reason: credit } : op));
    trace.pieces = applyOps(trace, ops, fresh);
  }
  compact(trace);
}

/** Bring the trace up to date with the document after `stage` ran (`reason` credits what no hint explains); the stage's hints are consumed. */
export function syncSpans(doc: DistillDocument, reason: string): void {
  const hints = doc.data.spanHints ?? [];
  delete doc.data.spanHints;
  traceEdit(doc, doc.value, reason, hints);
}

/**
 * Record on the document's trace, if it has one, that its current text
 * became `after`. Provenance is for the report: a bug in it drops the
 * trace, with a warning, and never costs the document.
 */
export function traceEdit(doc: DistillDocument, after: string, reason: string, hints: readonly RemovalHint[] = []): void {
  const trace = doc.data.spans;
  if (!trace) return;
  try {
    if (hints.length > 0 || tracedText(trace, doc.original) !== after) recordEdit(trace, doc.original, after, reason, hints);
    if (!trace.entities && doc.data.entities) trace.entities = entitiesInOriginal(trace, doc.data.entities as readonly EntityOffsets[]);
  } catch (error) {
    delete doc.data.spans;
    doc.message(`span capture failed, so the report has no document view for this document: ${(error as Error).message}`, 'spans:error');
  }
}

/** An edit over the current text; a deletion found by the diff (`adopt`) may take the reason of a hinted one beside it. */
type Op = { kind: 'equal'; length: number } | { kind: 'delete'; length: number; reason: number; adopt?: boolean } | { kind: 'insert'; text: string; reason: number };

function reasonIndex(trace: SpanTrace, reason: string): number {
  let index = trace.reasons.indexOf(reason);
  if (index < 0) index = trace.reasons.push(reason) - 1;
  return index;
}

/** Hints as edit operations over the current text: overlaps resolved in favour of the earlier hint. */
function hintOps(trace: SpanTrace, hints: readonly RemovalHint[], length: number): Op[] {
  const ops: Op[] = [];
  let cursor = 0;
  for (const hint of [...hints].sort((left, right) => left.start - right.start || right.end - left.end)) {
    const start = Math.max(hint.start, cursor);
    const end = Math.min(hint.end, length);
    if (end <= start) continue;
    if (start > cursor) ops.push({ kind: 'equal', length: start - cursor });
    ops.push({ kind: 'delete', length: end - start, reason: reasonIndex(trace, hint.reason) });
    cursor = end;
  }
  if (length > cursor) ops.push({ kind: 'equal', length: length - cursor });
  return ops;
}

const lengthOf = (piece: Piece) => (piece[0] === 2 ? piece[1].length : piece[0] === 0 ? piece[2] - piece[1] : 0);

/**
 * Walk the pieces along `ops` (over the current text): kept text stays,
 * deleted text becomes removed pieces (added text that is deleted again
 * just goes), inserted text becomes added pieces. Removed pieces, which
 * take no room in the current text, are passed through where they stand.
 */
function applyOps(trace: SpanTrace, ops: readonly Op[], fresh: Set<Piece>): Piece[] {
  const input = trace.pieces;
  const output: Piece[] = [];
  let index = 0;
  let within = 0;
  const passRemoved = () => {
    while (index < input.length && input[index]![0] === 1) output.push(input[index++]!);
  };
  const take = (length: number, remove: number | undefined) => {
    while (length > 0) {
      passRemoved();
      const piece = input[index];
      if (!piece) throw new Error(`the trace is ${length} characters short of the text it should hold`);
      const size = lengthOf(piece);
      const count = Math.min(length, size - within);
      if (piece[0] === 0) {
        const start = piece[1] + within;
        const cut: Piece = remove === undefined ? [0, start, start + count] : [1, start, start + count, remove];
        if (remove !== undefined) fresh.add(cut);
        output.push(cut);
      } else if (piece[0] === 2 && remove === undefined) {
        output.push([2, piece[1].slice(within, within + count), piece[2]]);
      }
      within += count;
      length -= count;
      if (within === size) {
        index++;
        within = 0;
      }
    }
  };
  for (const op of ops) {
    if (op.kind === 'equal') take(op.length, undefined);
    else if (op.kind === 'insert') output.push([2, op.text, op.reason]);
    else {
      let reason = op.reason;
      if (op.adopt) {
        const neighbour = [output.at(-1), input[index]].find((piece) => piece !== undefined && fresh.has(piece));
        if (neighbour && neighbour[0] === 1) reason = neighbour[3];
      }
      take(op.length, reason);
    }
  }
  passRemoved();
  if (index < input.length && input.slice(index).some((piece) => lengthOf(piece) > 0)) throw new Error('the edit left text of the trace unaccounted for');
  return output;
}

/** Join neighbouring pieces of one kind (and reason) that touch, so a record stores few of them. */
function compact(trace: SpanTrace): void {
  const pieces: Piece[] = [];
  for (const piece of trace.pieces) {
    const last = pieces.at(-1);
    if (last && last[0] === 0 && piece[0] === 0 && last[2] === piece[1]) last[2] = piece[2];
    else if (last && last[0] === 1 && piece[0] === 1 && last[2] === piece[1] && last[3] === piece[3]) last[2] = piece[2];
    else if (last && last[0] === 2 && piece[0] === 2 && last[2] === piece[2]) last[1] += piece[1];
    else pieces.push([...piece] as Piece);
  }
  trace.pieces = pieces;
}

interface EntityOffsets {
  type: string;
  documentStart?: number;
  documentEnd?: number;
}

/** Entities' offsets in the current text, mapped to the text as loaded; one in added text has no place there and is left out. */
function entitiesInOriginal(trace: SpanTrace, entities: readonly EntityOffsets[]): [number, number, string][] {
  // Kept pieces by their start in the current text, for a binary search.
  const currentStarts: number[] = [];
  const kept: { start: number; end: number; added: boolean }[] = [];
  let cursor = 0;
  for (const piece of trace.pieces) {
    if (piece[0] === 1) continue;
    currentStarts.push(cursor);
    kept.push(piece[0] === 0 ? { start: piece[1], end: piece[2], added: false } : { start: -1, end: -1, added: true });
    cursor += lengthOf(piece);
  }
  const toOriginal = (position: number): number | undefined => {
    let low = 0;
    let high = currentStarts.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (currentStarts[middle]! <= position) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    const piece = kept[found];
    if (!piece || piece.added) return undefined;
    const at = piece.start + position - currentStarts[found]!;
    return at < piece.end ? at : undefined;
  };
  const mapped: [number, number, string][] = [];
  for (const entity of entities) {
    if (entity.documentStart === undefined || entity.documentEnd === undefined || entity.documentEnd <= entity.documentStart) continue;
    const start = toOriginal(entity.documentStart);
    const last = toOriginal(entity.documentEnd - 1);
    if (start !== undefined && last !== undefined && last >= start) mapped.push([start, last + 1, entity.type]);
  }
  return mapped.sort((left, right) => left[0] - right[0]);
}

/** What a record stores of the trace (see `SpanRecord`). */
export function spanRecord(trace: SpanTrace, original: string): SpanRecord {
  const removed: number[] = [];
  const added: [number, string, number][] = [];
  let cursor = 0;
  for (const piece of trace.pieces) {
    if (piece[0] === 2) added.push([cursor, piece[1], piece[2]]);
    else {
      if (piece[0] === 1) removed.push(piece[1], piece[2], piece[3]);
      cursor = piece[2];
    }
  }
  return { text: original, removed, added, reasons: trace.reasons, entities: trace.entities ?? [] };
}

/**
 * A record's span provenance (`spans`, only with `spans: true` or
 * `--report`): the document as loaded, and what happened to each part.
 * The kept text is `text` without the `removed` spans, with the `added`
 * text put in before `text[at]`; it equals the record's `distilled`.
 */
export interface SpanRecord {
  /** The document as loaded. */
  text: string;
  /** Removed spans of `text`, flat: start, end, reason index, start, end, reason index, … */
  removed: number[];
  /** Text a stage added: [at, text, reason index], the text going before `text[at]`. */
  added: [number, string, number][];
  reasons: string[];
  /** Entities in `text`: [start, end, type]. */
  entities: [number, number, string][];
}

/** The kept text of a span record: what the report's document view shows as kept, and the record's `distilled`. */
export function keptText(spans: SpanRecord): string {
  let kept = '';
  let cursor = 0;
  let next = 0;
  const copyTo = (end: number) => {
    // Added text goes before the original character at its place.
    while (next < spans.added.length && spans.added[next]![0] <= end) {
      const [at, text] = spans.added[next++]!;
      kept += spans.text.slice(cursor, Math.max(cursor, at)) + text;
      cursor = Math.max(cursor, at);
    }
    kept += spans.text.slice(cursor, end);
    cursor = end;
  };
  for (let index = 0; index < spans.removed.length; index += 3) {
    copyTo(spans.removed[index]!);
    cursor = spans.removed[index + 1]!;
  }
  copyTo(spans.text.length);
  return kept;
}
