import type { Redactor, WaitProgress } from '@falai/core';
import { sanitise, seconds } from './output.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Live progress while waiting: on a TTY a spinner line on stderr (state, queue position,
 * elapsed) with new log lines printed above it; elsewhere nothing but new log lines when
 * `logs` is on. Never used under `--json`. Everything fal said goes through `sanitise`.
 */
export class ProgressLine {
  #frame = 0;
  #last: WaitProgress | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #started = Date.now();

  constructor(
    private readonly requestId: string,
    private readonly tty: boolean,
    /** The command's redactor: everything fal said goes through it. */
    private readonly redactor: Redactor,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** One more part of the line: the ETA, or the queue's trend (see core's ProgressTracker). */
    private readonly describe?: () => string,
  ) {
    if (tty) {
      this.#timer = setInterval(() => this.#draw(), 120);
      this.#timer.unref();
    }
  }

  /** Feed one progress event from `client.wait`. */
  update(progress: WaitProgress): void {
    this.#last = progress;
    if (progress.newLogs.length > 0) {
      this.#clear();
      for (const line of progress.newLogs) {
        this.stream.write(`  │ ${sanitise(line.message, this.redactor, { singleLine: true })}\n`);
      }
    }
    this.#draw();
  }

  /** Removes the spinner line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
  }

  #clear(): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
  }

  #draw(): void {
    if (!this.tty) return;
    const frame = FRAMES[this.#frame++ % FRAMES.length];
    const state = this.#last?.state ?? 'submitted';
    const position =
      this.#last?.queuePosition === undefined
        ? ''
        : ` · queue position ${this.#last.queuePosition}`;
    const elapsed = seconds(Date.now() - this.#started);
    const extra = this.describe?.();
    const line = `${frame} ${this.requestId} ${state}${position} · ${elapsed}${extra ? ` · ${sanitise(extra, this.redactor, { singleLine: true })}` : ''}`;
    this.stream.write(`\r\x1b[2K${fitWidth(line, this.stream.columns)}`);
  }
}

/**
 * Cuts the spinner line to the terminal's width. `\r` returns to the start of the current
 * row only, so a line that wraps leaves its first rows behind on every frame (a narrow
 * terminal fills with copies). One column is kept free so the cursor never wraps either.
 */
export function fitWidth(line: string, columns: number | undefined): string {
  if (!columns || columns < 2) return line;
  const chars = Array.from(line);
  return chars.length < columns ? line : `${chars.slice(0, columns - 2).join('')}…`;
}
