/** Append-only JSONL file of invocation records: one line per record, written through at once. */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { NebulaError, UsageError } from './errors.js';

/**
 * Writes each record as one line with a synchronous write, so a crash loses nothing already
 * recorded. A failed write (disk full, a removed folder) throws `RESULTS_WRITE_FAILED`; the
 * next line starts on a fresh line, so a half-written one never corrupts the lines after it
 * (readers skip a line that does not parse).
 */
export class RecordLog {
  private fd: number | null;
  private broken = false;

  /** @throws UsageError `INVALID_ARGUMENT` when the file cannot be opened for appending. */
  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'a');
    } catch (e) {
      throw new UsageError(
        'INVALID_ARGUMENT',
        `Cannot open the results file ${path} for appending: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  /** Appends one record. @throws NebulaError `RESULTS_WRITE_FAILED` */
  append(record: unknown): void {
    this.appendMany([record]);
  }

  /** Appends records, one line each, in one write. @throws NebulaError `RESULTS_WRITE_FAILED` */
  appendMany(records: readonly unknown[]): void {
    if (this.fd === null || records.length === 0) return;
    let line = '';
    try {
      for (const record of records) line += JSON.stringify(record) + '\n';
    } catch (e) {
      throw new NebulaError(
        'RESULTS_WRITE_FAILED',
        `A record could not be serialised for ${this.path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (this.broken) line = '\n' + line;
    try {
      const data = Buffer.from(line);
      let at = 0;
      while (at < data.length) at += writeSync(this.fd, data, at, data.length - at);
      this.broken = false;
    } catch (e) {
      this.broken = true;
      const code = (e as NodeJS.ErrnoException).code;
      throw new NebulaError(
        'RESULTS_WRITE_FAILED',
        `Could not append a record to ${this.path}${code ? ` (${code})` : ''}: ${(e as Error).message}`,
        {
          cause: e,
          details: code ? { errno: code } : {},
        },
      );
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // closing a file on a full or vanished disk: nothing left to save
    }
    this.fd = null;
  }
}
