/**
 * Progress of every phase of an experiment, with an ETA: a redrawn bar on a terminal, plain
 * lines (no carriage returns, no escape codes) when the output is a file or a pipe.
 */
import { fstatSync } from 'node:fs';
import type { WriteStream } from 'node:tty';
import { termText } from '../experiment/report/escape.js';
import type { PhaseSize } from '../experiment/run/experiment.js';

/** A duration for people: `42s`, `23m59s`, `2h24m` (rounded to the second first, so never `60s`). */
export function fmtSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
}

/**
 * A plan's warnings (a binary another artifact overrides, ...) as bench, load and replay print
 * them: one line each, in the dry run's plan (`indent`) and before the run.
 */
export const warningLines = (warnings: readonly string[], indent = ''): string[] =>
  warnings.map((w) => `${indent}${termText(`warning: ${w}`, true)}`);

/**
 * The whole run's time left, for progress: the rest of the step running now (a load step, a
 * replay under one policy), then what the run expects to need after it.
 */
export class RunLeft {
  private endAt = 0;
  private laterMs = Number.NaN;

  /** A step taking about `expectedMs` starts now; the run expects `laterMs` after it. */
  step(expectedMs: number, laterMs: number): void {
    this.endAt = Date.now() + expectedMs;
    this.laterMs = laterMs;
  }

  /** ms left, or undefined before a step has started. */
  get ms(): number | undefined {
    return Number.isFinite(this.laterMs) ? Math.max(0, this.endAt + this.laterMs - Date.now()) : undefined;
  }

  /** As a step's announcement says it. */
  get detail(): string {
    return `the whole run: about ${fmtSeconds((this.ms ?? 0) / 1000)} left`;
  }
}

export class Progress {
  private readonly tty: boolean;
  private phaseName = '';
  private size: PhaseSize = { total: 0, unit: 'invocations' };
  private started = Date.now();
  private lastLine = 0;
  private drawn = false;
  private finished = false;

  constructor(private readonly out: NodeJS.WriteStream | WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY);
  }

  /** A phase starts: `index` of `count` phases planned; a skipped one says why and has no progress. */
  phase(name: string, size: PhaseSize, index: number, count: number): void {
    this.clear();
    this.phaseName = `${name} ${index}/${count}`;
    this.size = size;
    this.started = Date.now();
    this.lastLine = 0;
    this.finished = size.skipped !== undefined;
    const unit = size.total === 1 ? size.unit.replace(/s$/, '') : size.unit;
    const what =
      size.skipped !== undefined
        ? `nothing to do (${size.skipped})`
        : `${size.unit === 'ms' ? `about ${fmtSeconds(size.total / 1000)}` : `${size.total} ${unit}`}${size.detail ? ` (${size.detail})` : ''}`;
    this.out.write(`== ${name} (phase ${index} of ${count}): ${what}\n`);
  }

  /**
   * Progress inside the phase; `label` says what just happened. `runLeftMs`, when given, is what
   * the whole run still needs (this phase's rest included), printed beside the phase's own ETA.
   */
  tick(done: number, total: number, label = '', runLeftMs?: number): void {
    if (this.finished) return;
    this.finished = done >= total;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
    const whole = runLeftMs !== undefined && Number.isFinite(runLeftMs) ? `, run ${fmtSeconds(runLeftMs / 1000)}` : '';
    const etaText = `${done >= total ? 'done' : Number.isFinite(eta) ? `ETA ${fmtSeconds(eta)}` : 'ETA …'}${whole}`;
    const count =
      this.size.unit === 'ms' ? `${(done / 1000).toFixed(1)}/${(total / 1000).toFixed(1)} s` : `${done}/${total}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((Math.min(done, total) / Math.max(1, total)) * width);
      const columns = this.out.columns ?? 100;
      const line = `[${this.phaseName}] ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${count} ${etaText}  ${label}`;
      this.out.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
      this.drawn = true;
      if (done >= total) this.clear();
    } else if (done >= total || done === 1 || Date.now() - this.lastLine > 5000) {
      // A file or a pipe gets a line now and then, never a redraw.
      this.lastLine = Date.now();
      this.out.write(`${this.phaseName.split(' ')[0]} ${count} ${etaText}${label ? `  ${label}` : ''}\n`);
    }
  }

  /** A line of its own (a note), above the bar. */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** The plan's warnings, a line each ({@link warningLines}). */
  warn(warnings: readonly string[]): void {
    for (const text of warningLines(warnings)) this.line(text);
  }

  private clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}

/**
 * True when stdout and stderr go to the same place (one terminal, one file): then what the
 * progress printed on stderr is already in front of the reader, and the summary on stdout need
 * not repeat it.
 */
export function stdoutIsStderr(): boolean {
  try {
    const out = fstatSync(1);
    const err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino && out.rdev === err.rdev;
  } catch {
    return false;
  }
}
