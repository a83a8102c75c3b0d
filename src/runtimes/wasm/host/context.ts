/**
 * The host state of one instance, the same for WASI preview1 and WASI 0.2 (as Wasmtime's `Store`
 * is apart from its `Linker`): the instance's memory, its args and env, and for the run in
 * progress stdin and the two capped output writers. The bindings (`preview1.ts`,
 * `preview2.ts`) are built once per worker and read the context of the instance running now.
 */

/** Why the host stopped a run from inside a host call. */
export const Stop = { NONE: 0, EXIT: 1, OUTPUT_LIMIT: 2 } as const;

/**
 * `(module (func (export "t") unreachable))`: its trap is an error V8 marks as one wasm code can
 * never catch (a trap is not an exception: `try ... catch_all` and `try_table` let it pass).
 */
const TRAP_MODULE = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07,
  0x05, 0x01, 0x01, 0x74, 0x00, 0x00, 0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,
];
let stopSignal: Error | undefined;

/**
 * What host calls throw to end a run (`proc_exit`, `wasi:cli/exit`, stdout past its cap): the
 * error of a real trap, made once per thread. Thrown again from a host call it keeps V8's mark,
 * so a module's own exception handler cannot catch it and carry on as if the exit never happened;
 * why the run stopped is kept in the {@link HostContext}. Thrown on every run that exits, so it
 * is made once and never captures a stack again.
 */
function stop(): Error {
  if (stopSignal === undefined) {
    const trap = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(TRAP_MODULE)));
    try {
      (trap.exports.t as () => void)();
    } catch (e) {
      stopSignal = e as Error;
    }
  }
  return stopSignal!;
}

/** Makes the stop signal now (a worker, as it starts), not in a host call that may be short of stack. */
export function prepareStopSignal(): void {
  stop();
}

/** True for the value host calls throw to stop a run (see {@link HostContext.stop}). */
export function isStopSignal(e: unknown): boolean {
  return e !== undefined && e === stopSignal;
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
  /** Why the host stopped the run in progress ({@link Stop}), and the exit code it was given. */
  stop: number = Stop.NONE;
  exitCode = 0;
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
    this.stop = Stop.NONE;
    this.exitCode = 0;
    stdout.reset();
    stderr.reset();
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Ends the run with an exit code (an i32; anything else is taken as a failure, 1). */
  exit(code: unknown): never {
    this.exitCode = typeof code === 'number' ? code | 0 : 1;
    this.stop = Stop.EXIT;
    throw stop();
  }

  /** Ends the run because stdout went past its cap: the result is lost whatever follows. */
  outputFull(): never {
    this.stop = Stop.OUTPUT_LIMIT;
    throw stop();
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
