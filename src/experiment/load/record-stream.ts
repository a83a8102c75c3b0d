/**
 * records.jsonl of a load or replay run: each record appended once its energy has settled (so the
 * line holds its share), the ones that never ran at once; what is still pending when the run ends
 * is written as it stands.
 */
import { join } from 'node:path';
import type { Nebula } from '../../nebula.js';
import { RecordLog } from '../../record-log.js';
import { newId, toRecord } from '../../record.js';
import { failedOutcome } from '../../runtimes/outcome.js';
import type { RuntimeKind } from '../../runtimes/index.js';
import type { InvocationMode, InvocationRecord } from '../../types.js';
import { RUN_FILES } from '../run-folder.js';

export class RecordStream {
  private readonly log: RecordLog;
  private readonly unwritten = new Map<string, InvocationRecord>();
  private readonly onSettled = (r: InvocationRecord) => {
    const rec = this.unwritten.get(r.id);
    if (!rec) return;
    this.unwritten.delete(r.id);
    this.log.append(rec);
  };

  constructor(
    private readonly nebula: Nebula,
    outDir: string,
  ) {
    this.log = new RecordLog(join(outDir, RUN_FILES.records));
    nebula.on('invocation:settled', this.onSettled);
  }

  /** Writes `record` now when its energy is final, else once it settles. */
  add(record: InvocationRecord): void {
    if (record.energyStatus === 'pending') this.unwritten.set(record.id, record);
    else this.log.append(record);
  }

  /** Writes what is still pending and closes the file. */
  close(): void {
    this.nebula.off('invocation:settled', this.onSettled);
    for (const rec of this.unwritten.values()) this.log.append(rec);
    this.unwritten.clear();
    this.log.close();
  }
}

/** The record of an arrival that never ran (given up in the queue) or whose `invoke()` threw: a failure with `code`, no energy. */
export function failedRecord(
  cell: { function: string; runtime: RuntimeKind; mode: InvocationMode; input: unknown },
  at: number,
  error: unknown,
  code: 'TIMEOUT' | 'RUNTIME_ERROR',
): InvocationRecord {
  const rec = toRecord(
    {
      id: newId(),
      name: cell.function,
      runtime: cell.runtime,
      mode: cell.mode,
      input: cell.input,
      requestAt: at,
      prepareMs: 0,
      maxStderrBytes: 0,
    },
    failedOutcome(error, code, at),
  );
  rec.energyStatus = 'unavailable';
  return rec;
}
