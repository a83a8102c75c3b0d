/**
 * The host state of one instance, the same for WASI preview1 and WASI 0.2 (as Wasmtime's `Store`
 * is apart from its `Linker`): the instance's memory, its args and env, and for the run in
 * progress stdin and the two capped output writers. The bindings (`preview1.ts`,
 * `preview2.ts`) are built once per worker and read the context of the instance running now.
 */

/** Thrown by `proc_exit` / `wasi:cli/exit`; caught by the worker to read the exit code. */
export class ProcExit {
  constructor(readonly code: number) {}
}

/**
 * Thrown when the function writes past the stdout cap: its result is lost anyway, so it is
 * stopped. An `Error`, so jco's glue passes it through instead of turning it into a stream error.
 */
export class OutputLimitExit extends Error {
  constructor() {
    super('stdout went over the output cap');
  }
}

/**
 * A capped byte sink: keeps the first `cap` bytes, counts the rest without storing it. Its memory
 * never passes `cap` however the function writes (a million one-byte writes, empty writes).
 */
export class OutputWriter {
  private buf: Uint8Array;
  /** Bytes kept. */
  length = 0;
  /** Bytes the function wrote past the cap were dropped. */
  truncated = false;

  constructor(readonly cap: number) {
    this.buf = new Uint8Array(Math.min(cap, 4096));
  }

  reset(): void {
    this.length = 0;
    this.truncated = false;
  }

  /** Keeps what fits of `src[from, from + len)`; returns false when something was dropped. */
  write(src: Uint8Array, from: number, len: number): boolean {
    if (len === 0) return true;
    const room = this.cap - this.length;
    const n = len <= room ? len : room;
    if (n > 0) {
      this.reserve(this.length + n);
      this.buf.set(src.subarray(from, from + n), this.length);
      this.length += n;
    }
    if (n < len) this.truncated = true;
    return n === len;
  }

  /** Keeps what fits of `n` zero bytes, without allocating `n` bytes. */
  writeZeroes(n: number): boolean {
    const keep = Math.min(n, this.cap - this.length);
    if (keep > 0) {
      this.reserve(this.length + keep);
      this.buf.fill(0, this.length, this.length + keep);
      this.length += keep;
    }
    if (keep < n) this.truncated = true;
    return keep === n;
  }

  /** The kept bytes (a view, valid until the next write or reset). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private reserve(size: number): void {
    if (size <= this.buf.length) return;
    const next = new Uint8Array(Math.min(this.cap, Math.max(size, this.buf.length * 2)));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

/** What a function is given, encoded once per function. */
export interface Grants {
  /** argv, argv[0] being the function's name. */
  args: Uint8Array[];
  /** `KEY=value` entries. */
  env: Uint8Array[];
  /** The same as strings, for the WASI 0.2 bindings. */
  argStrings: string[];
  envPairs: Array<[string, string]>;
}

const encoder = new TextEncoder();

export function encodeGrants(args: string[], env: Record<string, string>): Grants {
  const entries = Object.entries(env);
  return {
    args: args.map((a) => encoder.encode(a)),
    env: entries.map(([k, v]) => encoder.encode(`${k}=${v}`)),
    argStrings: args,
    envPairs: entries,
  };
}

const EMPTY = new Uint8Array(0);

/** The host state of one instance. */
export class HostContext {
  memory: WebAssembly.Memory | null = null;
  stdin: Uint8Array = EMPTY;
  stdinPos = 0;
  private dv: DataView | null = null;
  private u8: Uint8Array | null = null;

  constructor(
    readonly grants: Grants,
    public stdout: OutputWriter,
    public stderr: OutputWriter,
  ) {}

  /** Starts a run: the input on stdin, the worker's (reset) output writers. */
  beginRun(stdin: Uint8Array, stdout: OutputWriter, stderr: OutputWriter): void {
    this.stdin = stdin;
    this.stdinPos = 0;
    stdout.reset();
    stderr.reset();
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** A DataView of the memory, made again only when a grow replaced its buffer. */
  view(): DataView {
    const buffer = this.memory!.buffer;
    if (this.dv === null || this.dv.buffer !== buffer) {
      this.dv = new DataView(buffer);
      this.u8 = new Uint8Array(buffer);
    }
    return this.dv;
  }

  bytes(): Uint8Array {
    this.view();
    return this.u8!;
  }
}
