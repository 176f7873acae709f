/**
 * A text diff for span provenance: which characters of `before` a stage
 * kept, which it deleted, and what text it added. It only has to be right
 * (the kept and added text is exactly `after`) and readable (cuts fall on
 * line and word boundaries); it need not be minimal. Stages that know what
 * they removed say so first (see `trace.ts`), so what is left to diff is
 * small: rewrites within lines, separators, collapsed spaces.
 *
 * Myers' O(ND) algorithm, on lines first and then on the words of each
 * changed run of lines, so a large document with a few edits costs little.
 * Past `maxEdits` edits at one level, that run is given as deleted and
 * re-added whole: still right, only coarser.
 */

export type DiffOp = { kind: 'equal'; length: number } | { kind: 'delete'; length: number } | { kind: 'insert'; text: string };

/** Edits Myers may look for at one level; its memory grows with their square. */
const maxEdits = 1500;

export function diffText(before: string, after: string): DiffOp[] {
  const ops: DiffOp[] = [];
  let prefix = 0;
  const shorter = Math.min(before.length, after.length);
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < shorter - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  push(ops, { kind: 'equal', length: prefix });
  const lines = diffUnits(splitLines(before.slice(prefix, before.length - suffix)), splitLines(after.slice(prefix, after.length - suffix)));
  // A changed run of lines (deleted lines, then added ones) is diffed again by words.
  for (let index = 0; index < lines.length; index++) {
    const op = lines[index]!;
    const next = lines[index + 1];
    // Deleted-then-added and added-then-deleted are the same change at the same place.
    const pair = op.kind === 'delete' && next?.kind === 'insert' ? [op, next] : op.kind === 'insert' && next?.kind === 'delete' ? [next, op] : undefined;
    if (pair) {
      for (const word of diffUnits(splitWords(pair[0]!.text), splitWords(pair[1]!.text))) push(ops, toDiffOp(word));
      index++;
    } else push(ops, toDiffOp(op));
  }
  push(ops, { kind: 'equal', length: suffix });
  return ops;
}

function push(ops: DiffOp[], op: DiffOp): void {
  if (op.kind === 'insert' ? op.text === '' : op.length === 0) return;
  const last = ops.at(-1);
  if (last?.kind === 'insert' && op.kind === 'insert') last.text += op.text;
  else if (last && last.kind === op.kind && last.kind !== 'insert' && op.kind !== 'insert') last.length += op.length;
  else ops.push({ ...op });
}

const splitLines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
const splitWords = (text: string): string[] => text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]+?/gu) ?? [];

interface UnitOp {
  kind: 'equal' | 'delete' | 'insert';
  text: string;
}

const toDiffOp = (op: UnitOp): DiffOp => (op.kind === 'insert' ? { kind: 'insert', text: op.text } : { kind: op.kind, length: op.text.length });

/** The diff of two lists of units (lines or words), each run of one kind joined into one op. */
function diffUnits(a: readonly string[], b: readonly string[]): UnitOp[] {
  const ids = new Map<string, number>();
  const idOf = (unit: string) => {
    let id = ids.get(unit);
    if (id === undefined) ids.set(unit, (id = ids.size));
    return id;
  };
  const left = Int32Array.from(a, idOf);
  const right = Int32Array.from(b, idOf);
  const path = myers(left, right);
  const ops: UnitOp[] = [];
  const add = (kind: UnitOp['kind'], text: string) => {
    const last = ops.at(-1);
    if (last?.kind === kind) last.text += text;
    else ops.push({ kind, text });
  };
  if (!path) {
    add('delete', a.join(''));
    add('insert', b.join(''));
    return ops.filter((op) => op.text !== '');
  }
  let x = 0;
  let y = 0;
  for (const step of path) {
    if (step === 0) add('equal', a[x++]!), y++;
    else if (step === 1) add('delete', a[x++]!);
    else add('insert', b[y++]!);
  }
  return ops;
}

/**
 * Myers' greedy shortest edit script: 0 keep, 1 delete from `a`, 2 insert
 * from `b`, in order; undefined past `maxEdits` edits.
 */
function myers(a: Int32Array, b: Int32Array): Uint8Array | undefined {
  const n = a.length;
  const m = b.length;
  const limit = Math.min(n + m, maxEdits);
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  // The furthest x on each diagonal before each round, kept to walk the path back.
  const rounds: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    rounds.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return walkBack(rounds, n, m, d);
    }
  }
  return undefined;
}

function walkBack(rounds: readonly Int32Array[], n: number, m: number, edits: number): Uint8Array {
  const steps: number[] = [];
  let x = n;
  let y = m;
  for (let d = edits; d > 0; d--) {
    const before = rounds[d]!;
    const at = (k: number) => before[k + d]!;
    const k = x - y;
    const previousK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const previousX = at(previousK);
    const previousY = previousX - previousK;
    while (x > previousX && y > previousY) {
      steps.push(0);
      x--;
      y--;
    }
    steps.push(x === previousX ? 2 : 1);
    x = previousX;
    y = previousY;
  }
  while (x > 0 && y > 0) {
    steps.push(0);
    x--;
    y--;
  }
  return Uint8Array.from(steps.reverse());
}
