/**
 * The server's bounded memory of invocation records (by count and by bytes of their JSON) and
 * power samples, newest first for paging. A record that cannot be serialised spoils only itself.
 */
import type { InvocationRecord, PowerSample } from '../types.js';

export interface ResultsQuery {
  function?: string;
  runtime?: string;
  limit: number;
  /** Opaque: the id of the last record of the previous page. */
  cursor?: string;
}

/** A record on a page that could not be serialised, said instead of the record. */
interface OmittedResult {
  id: string;
  code: 'INTERNAL';
  message: string;
}

export interface ResultsStoreOptions {
  /** Records kept at most. */
  maxRecords: number;
  /** Bytes of the kept records' JSON (UTF-8) at most; the newest record is kept whatever its size. */
  maxBytes: number;
  /** Power samples kept. Default 3000. */
  maxSamples?: number;
  /** How long a record is held live before only its JSON is kept, ms. Default 60 000. */
  settleMs?: number;
}

interface Entry {
  seq: number;
  id: string;
  function: string;
  runtime: string;
  addedAt: number;
  bytes: number;
  /** Held while the record may still change (cleanupMs, energy that settles later), then dropped for `json`. */
  record: InvocationRecord | undefined;
  json: string | undefined;
  /** Why the record cannot be serialised. */
  failure: string | undefined;
}

/** Records change for a while after `invocation:end` (clean-up time, settled energy): kept live this long, ms. */
const SETTLE_MS = 60_000;

/** JSON text of `value`, or why there is none (circular, BigInt, nested too deep). */
function serialise(value: unknown): { json: string } | { failure: string } {
  try {
    const json = JSON.stringify(value);
    return typeof json === 'string' ? { json } : { failure: 'it has no JSON form' };
  } catch (e) {
    return { failure: (e as Error)?.message ?? String(e) };
  }
}

export class ResultsStore {
  private entries: Entry[] = [];
  private head = 0;
  private nextSeq = 0;
  /** Records from this seq on may still be held live. */
  private liveSeq = 0;
  private bytes = 0;
  private readonly byId = new Map<string, Entry>();
  private samples: PowerSample[] = [];

  constructor(private readonly options: ResultsStoreOptions) {}

  /** Bytes and count of the records held (for tests and metrics). */
  get size(): { records: number; bytes: number } {
    return { records: this.entries.length - this.head, bytes: this.bytes };
  }

  add(r: InvocationRecord): void {
    const s = serialise(r);
    const entry: Entry = {
      seq: this.nextSeq++,
      id: String(r.id),
      function: String(r.function),
      runtime: String(r.runtime),
      addedAt: Date.now(),
      bytes: 'json' in s ? Buffer.byteLength(s.json) : 0,
      record: 'json' in s ? r : undefined,
      json: undefined,
      failure: 'failure' in s ? s.failure : undefined,
    };
    this.entries.push(entry);
    this.byId.set(entry.id, entry);
    this.bytes += entry.bytes;
    this.settle();
    this.evict();
  }

  /** The record's JSON text, or why it has none; undefined when not kept. */
  get(id: string): { json: string } | { failure: string } | undefined {
    const e = this.byId.get(id);
    return e && this.text(e);
  }

  /** Newest first, as one JSON text `{ results, nextCursor, omitted? }`; `nextCursor` is set when more records follow. */
  query(q: ResultsQuery): string {
    this.settle();
    const parts: string[] = [];
    const omitted: OmittedResult[] = [];
    const matches = (e: Entry) => (!q.function || e.function === q.function) && (!q.runtime || e.runtime === q.runtime);
    let i = this.entries.length - 1;
    if (q.cursor) {
      const at = this.byId.get(q.cursor);
      i = at ? this.indexOf(at) - 1 : -1;
    }
    let last: Entry | undefined;
    for (; i >= this.head && parts.length + omitted.length < q.limit; i--) {
      const e = this.entries[i]!;
      if (!matches(e)) continue;
      const t = this.text(e);
      if ('json' in t) parts.push(t.json);
      else
        omitted.push({
          id: e.id,
          code: 'INTERNAL',
          message: `The record could not be serialised as JSON (${t.failure}).`,
        });
      last = e;
    }
    let more = false;
    for (let j = i; j >= this.head && !more; j--) more = matches(this.entries[j]!);
    const cursor = more && last ? JSON.stringify(last.id) : 'null';
    return `{"results":[${parts.join(',')}],"nextCursor":${cursor}${omitted.length ? `,"omitted":${JSON.stringify(omitted)}` : ''}}`;
  }

  addSample(s: PowerSample): void {
    const max = this.options.maxSamples ?? 3000;
    this.samples.push(s);
    if (this.samples.length > max * 1.25) this.samples.splice(0, this.samples.length - max);
  }

  samplesSince(t: number): PowerSample[] {
    return this.samples.filter((s) => s.t > t);
  }

  get lastSample(): PowerSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  private indexOf(e: Entry): number {
    return this.head + (e.seq - this.entries[this.head]!.seq);
  }

  private text(e: Entry): { json: string } | { failure: string } {
    if (e.json !== undefined) return { json: e.json };
    if (e.failure !== undefined) return { failure: e.failure };
    return serialise(e.record);
  }

  /** Swaps settled records for their JSON text, which is what the byte bound counts. */
  private settle(): void {
    const before = Date.now() - (this.options.settleMs ?? SETTLE_MS);
    for (; this.liveSeq < this.nextSeq; this.liveSeq++) {
      const first = this.entries[this.head];
      if (!first || this.liveSeq < first.seq) continue;
      const e = this.entries[this.head + (this.liveSeq - first.seq)]!;
      if (e.addedAt > before) break;
      if (!e.record) continue;
      const s = serialise(e.record);
      e.record = undefined;
      this.bytes -= e.bytes;
      if ('json' in s) {
        e.json = s.json;
        e.bytes = Buffer.byteLength(s.json);
      } else {
        e.failure = s.failure;
        e.bytes = 0;
      }
      this.bytes += e.bytes;
    }
  }

  private evict(): void {
    while (
      this.entries.length - this.head > 1 &&
      (this.entries.length - this.head > this.options.maxRecords || this.bytes > this.options.maxBytes)
    ) {
      const old = this.entries[this.head]!;
      this.entries[this.head++] = undefined as unknown as Entry;
      this.bytes -= old.bytes;
      this.byId.delete(old.id);
    }
    // Compact now and then, so dropping from the front stays O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
