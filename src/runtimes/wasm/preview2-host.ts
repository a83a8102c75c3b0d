/**
 * The WASI 0.2 interfaces a command component imports, made afresh per instance over the same
 * per-invocation state as the preview1 host: stdin from the input, stdout/stderr into capped
 * buffers, no preopens, args and env as granted, `exit` throwing a typed value. Used for native
 * WASI 0.2 components, through jco's generated glue.
 */
import { randomBytes } from 'node:crypto';
import { ProcExit, type HostContext } from './preview1-host.js';

/** Builds the import object for jco's `instantiate(getCoreModule, imports)`. */
export function preview2Imports(ctx: HostContext): Record<string, Record<string, unknown>> {
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
      if (ctx.stdinPos >= ctx.stdin.length) throw { tag: 'closed' };
      const chunk = ctx.stdin.slice(ctx.stdinPos, ctx.stdinPos + Number(len));
      ctx.stdinPos += chunk.length;
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
      return 1n << 20n;
    }
    write(buf: Uint8Array): void {
      const used = this.fd === 1 ? ctx.stdoutBytes : ctx.stderrBytes;
      const kept = buf.slice(0, Math.max(0, ctx.maxOutputBytes - used));
      if (kept.length < buf.length) ctx.truncated = true;
      (this.fd === 1 ? ctx.stdout : ctx.stderr).push(kept);
      if (this.fd === 1) ctx.stdoutBytes += kept.length;
      else ctx.stderrBytes += kept.length;
    }
    blockingWriteAndFlush(buf: Uint8Array): void {
      this.write(buf);
    }
    flush(): void {}
    blockingFlush(): void {}
    writeZeroes(n: bigint): void {
      this.write(new Uint8Array(Number(n)));
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
  const env = ctx.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
  return {
    'wasi:cli/environment': { getEnvironment: () => env, getArguments: () => ctx.args, initialCwd: () => undefined },
    'wasi:cli/exit': {
      exit: (status: { tag: string }) => {
        throw new ProcExit(status?.tag === 'err' ? 1 : 0);
      },
      exitWithCode: (code: number) => {
        throw new ProcExit(code);
      },
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
    'wasi:random/random': {
      getRandomBytes: (n: bigint) => new Uint8Array(randomBytes(Number(n))),
      getRandomU64: () => randomBytes(8).readBigUInt64LE(),
    },
    'wasi:random/insecure': {
      getInsecureRandomBytes: (n: bigint) => new Uint8Array(randomBytes(Number(n))),
      getInsecureRandomU64: () => randomBytes(8).readBigUInt64LE(),
    },
    'wasi:random/insecure-seed': { insecureSeed: () => [randomBytes(8).readBigUInt64LE(), randomBytes(8).readBigUInt64LE()] },
  };
}
