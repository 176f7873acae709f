import type { WriteStream } from 'node:tty';

/**
 * One self-rewriting status line on a terminal's stderr; silent when stderr
 * is a pipe or a file, so logs stay clean.
 */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream | WriteStream;
  readonly #enabled: boolean;
  readonly #started = performance.now();
  #last = 0;
  #width = 0;
  total: number | undefined;
  done = 0;
  ok = 0;
  failed = 0;
  skipped = 0;
  current = '';
  /** What the run waits on at the model, if anything: requests on the wire and the oldest one's age. */
  waiting: (() => { inFlight: number; oldestMs: number }) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(stream: NodeJS.WriteStream = process.stderr, enabled = Boolean(stream.isTTY) && !process.env.CI) {
    this.#stream = stream;
    this.#enabled = enabled;
  }

  update(force = false): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    const seconds = (now - this.#started) / 1000;
    const of = this.total === undefined ? '' : `/${this.total}`;
    const rate = seconds > 0 ? `${(this.done / seconds).toFixed(1)} docs/s` : '';
    const eta = this.total && this.done > 0 ? ` · eta ${Math.max(0, ((this.total - this.done) * seconds) / this.done).toFixed(0)}s` : '';
    const model = this.waiting?.();
    // With requests on the wire, what the run waits on says more than the last stage that ran.
    const doing = model && model.inFlight > 0 ? `waiting on the model: ${model.inFlight} ${model.inFlight === 1 ? 'request' : 'requests'} in flight, oldest ${Math.floor(model.oldestMs / 1000)}s` : this.current;
    const text = `distill ${this.done}${of} docs · ok ${this.ok} · skipped ${this.skipped} · error ${this.failed} · ${rate}${eta} · ${doing}`;
    const columns = this.#stream.columns ?? 100;
    const line = text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text;
    this.#stream.write(`\r${line}${' '.repeat(Math.max(0, this.#width - line.length))}`);
    this.#width = line.length;
  }

  /** Redraw every `intervalMs` even when nothing finishes, so a wait shows its age. Silent (no timer) off a terminal. */
  start(intervalMs = 1000): void {
    if (!this.#enabled || this.#timer) return;
    this.#timer = setInterval(() => this.update(true), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  clear(): void {
    if (!this.#enabled || this.#width === 0) return;
    this.#stream.write(`\r${' '.repeat(this.#width)}\r`);
    this.#width = 0;
  }
}
