/**
 * The WASI 0.2 interfaces a command component imports, built once per worker over the context of
 * the instance running now (`host.ctx`), the same context and capped writers as the preview1
 * bindings: stdin from the input, stdout/stderr capped, no preopens, args and env as granted,
 * `exit` ending the run in a way the component cannot catch. Used for native WASI 0.2 components, through jco's generated glue.
 */
import { randomBytes } from 'node:crypto';
import type { Host } from './preview1.js';

/** The largest random buffer one call may ask for (the glue copies it into the guest's memory). */
const MAX_RANDOM_BYTES = 1 << 20;
/** What `check-write` allows per write; the writers themselves cap the total. */
const WRITE_BUDGET = 1n << 16n;

function random(n: bigint): Uint8Array {
  if (n > BigInt(MAX_RANDOM_BYTES))
    throw new RangeError(`get-random-bytes asked for ${n} bytes; at most ${MAX_RANDOM_BYTES} per call`);
  return new Uint8Array(randomBytes(Number(n)));
}

/** Builds the import object for jco's `instantiate(getCoreModule, imports)`. */
export function preview2Imports(host: Host): Record<string, Record<string, unknown>> {
  class Pollable {
    ready(): boolean {
      return true;
    }
    block(): void {}
  }
  class IoError {
    constructor(readonly message: string) {}
    toDebugString(): string {
      return this.message;
    }
  }
  class InputStream {
    read(len: bigint): Uint8Array {
      const ctx = host.ctx;
      // jco's glue takes a stream's end as this plain error value (wasi:io/streams' `closed`), not an Error.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (ctx.stdinPos >= ctx.stdin.length) throw { tag: 'closed' };
      const n = Math.min(Number(len), ctx.stdin.length - ctx.stdinPos);
      const chunk = ctx.stdin.slice(ctx.stdinPos, ctx.stdinPos + n);
      ctx.stdinPos += n;
      return chunk;
    }
    blockingRead(len: bigint): Uint8Array {
      return this.read(len);
    }
    skip(len: bigint): bigint {
      return BigInt(this.read(len).length);
    }
    blockingSkip(len: bigint): bigint {
      return this.skip(len);
    }
    subscribe(): Pollable {
      return new Pollable();
    }
  }
  class OutputStream {
    constructor(private readonly fd: 1 | 2) {}
    checkWrite(): bigint {
      return WRITE_BUDGET;
    }
    write(buf: Uint8Array): void {
      const out = this.fd === 1 ? host.ctx.stdout : host.ctx.stderr;
      if (!out.write(buf, 0, buf.length) && this.fd === 1) host.ctx.outputFull();
    }
    blockingWriteAndFlush(buf: Uint8Array): void {
      this.write(buf);
    }
    flush(): void {}
    blockingFlush(): void {}
    writeZeroes(n: bigint): void {
      const out = this.fd === 1 ? host.ctx.stdout : host.ctx.stderr;
      if (!out.writeZeroes(Number(n)) && this.fd === 1) host.ctx.outputFull();
    }
    blockingWriteZeroesAndFlush(n: bigint): void {
      this.writeZeroes(n);
    }
    subscribe(): Pollable {
      return new Pollable();
    }
  }
  // No preopened directories: nothing can hand the function a descriptor.
  class Descriptor {}
  class DirectoryEntryStream {}
  class TerminalInput {}
  class TerminalOutput {}
  const stdin = new InputStream();
  const stdout = new OutputStream(1);
  const stderr = new OutputStream(2);
  const wall = () => {
    const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
  };
  return {
    'wasi:cli/environment': {
      getEnvironment: () => host.ctx.grants.envPairs,
      getArguments: () => host.ctx.grants.argStrings,
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag?: unknown } | undefined) => host.ctx.exit(status?.tag === 'ok' ? 0 : 1),
      exitWithCode: (code: unknown) => host.ctx.exit(code),
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/monotonic-clock': {
      now: () => process.hrtime.bigint(),
      resolution: () => 1n,
      subscribeInstant: () => new Pollable(),
      subscribeDuration: () => new Pollable(),
    },
    'wasi:clocks/wall-clock': { now: wall, resolution: () => ({ seconds: 0n, nanoseconds: 1000 }) },
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode: () => undefined },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll: (list: unknown[]) => Uint32Array.from(list.map((_, i) => i)) },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: random, getRandomU64: () => randomBytes(8).readBigUInt64LE() },
    'wasi:random/insecure': {
      getInsecureRandomBytes: random,
      getInsecureRandomU64: () => randomBytes(8).readBigUInt64LE(),
    },
    'wasi:random/insecure-seed': {
      insecureSeed: () => [randomBytes(8).readBigUInt64LE(), randomBytes(8).readBigUInt64LE()],
    },
  };
}
