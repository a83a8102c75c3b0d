/** The server's bounded memory of invocation records and power samples, newest first for paging. */
import type { InvocationRecord, PowerSample } from '../types.js';

export interface ResultsQuery {
  function?: string;
  runtime?: string;
  limit: number;
  /** Opaque: the id of the last record of the previous page. */
  cursor?: string;
}

export class ResultsStore {
  private records: InvocationRecord[] = [];
  private readonly byId = new Map<string, InvocationRecord>();
  private samples: PowerSample[] = [];

  constructor(
    private readonly size: number,
    private readonly sampleSize = 3000,
  ) {}

  add(r: InvocationRecord): void {
    this.records.push(r);
    this.byId.set(r.id, r);
    if (this.records.length > this.size * 1.25) {
      for (const old of this.records.splice(0, this.records.length - this.size)) this.byId.delete(old.id);
    }
  }

  get(id: string): InvocationRecord | undefined {
    return this.byId.get(id);
  }

  /** Newest first; `nextCursor` is set when more records follow. */
  query(q: ResultsQuery): { results: InvocationRecord[]; nextCursor: string | null } {
    const results: InvocationRecord[] = [];
    let i = this.records.length - 1;
    if (q.cursor) {
      const at = this.records.findIndex((r) => r.id === q.cursor);
      i = at >= 0 ? at - 1 : -1;
    }
    for (; i >= 0 && results.length < q.limit; i--) {
      const r = this.records[i]!;
      if (q.function && r.function !== q.function) continue;
      if (q.runtime && r.runtime !== q.runtime) continue;
      results.push(r);
    }
    let more = false;
    for (let j = i; j >= 0; j--) {
      const r = this.records[j]!;
      if ((!q.function || r.function === q.function) && (!q.runtime || r.runtime === q.runtime)) {
        more = true;
        break;
      }
    }
    return { results, nextCursor: more && results.length ? results[results.length - 1]!.id : null };
  }

  addSample(s: PowerSample): void {
    this.samples.push(s);
    if (this.samples.length > this.sampleSize * 1.25) this.samples.splice(0, this.samples.length - this.sampleSize);
  }

  samplesSince(t: number): PowerSample[] {
    return this.samples.filter((s) => s.t > t);
  }

  get lastSample(): PowerSample | undefined {
    return this.samples[this.samples.length - 1];
  }
}
