/**
 * A WasmRuntime worker thread: holds compiled modules, instantiates one fresh instance per
 * invocation (or takes one made ahead for `warm`), runs its `_start`, and reports stdout,
 * stderr, the exit code and timestamps on its own clock (corrected by the main thread).
 */
import { parentPort } from 'node:worker_threads';
import { newHostContext, preview1Imports, ProcExit, type HostContext } from './preview1-host.js';
import type { DoneMessage, FromWorker, LoadMessage, ToWorker } from './protocol.js';

interface Ready {
  instance: WebAssembly.Instance;
  ctx: HostContext;
}

const now = () => performance.timeOrigin + performance.now();
const loaded = new Map<string, LoadMessage>();
const ready = new Map<string, Ready[]>();
const encoder = new TextEncoder();
const port = parentPort!;

function instantiate(fn: LoadMessage): Ready {
  const ctx = newHostContext(fn.args, fn.env, fn.maxOutputBytes);
  const instance = new WebAssembly.Instance(fn.module, { wasi_snapshot_preview1: preview1Imports(ctx) });
  ctx.memory = instance.exports.memory as WebAssembly.Memory;
  return { instance, ctx };
}

function refill(key: string): void {
  const fn = loaded.get(key);
  if (!fn || fn.warm <= 0) return;
  const queue = ready.get(key) ?? [];
  ready.set(key, queue);
  while (queue.length < fn.warm) queue.push(instantiate(fn));
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function send(msg: FromWorker): void {
  port.postMessage(msg);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'ping') return send({ type: 'pong', t: msg.t, workerT: now() });
  if (msg.type === 'load') {
    loaded.set(msg.key, msg);
    ready.delete(msg.key);
    return setImmediate(() => refill(msg.key));
  }
  if (msg.type === 'drop') {
    loaded.delete(msg.key);
    ready.delete(msg.key);
    return;
  }
  const receivedAt = now();
  const fn = loaded.get(msg.key);
  if (!fn) {
    const t0 = now();
    return send({ type: 'done', id: msg.id, exitCode: null, stdout: new Uint8Array(), stderr: new Uint8Array(), trap: 'the function was undeployed', receivedAt, startAt: t0, endAt: t0, instantiateMs: 0, memoryBytes: 0, outputTruncated: false, warmHit: false });
  }
  const warmOne = msg.warm ? ready.get(msg.key)?.shift() : undefined;
  let t = now();
  const { instance, ctx } = warmOne ?? instantiate(fn);
  ctx.stdin = encoder.encode(msg.input);
  const startAt = now();
  const instantiateMs = warmOne ? 0 : startAt - t;
  let exitCode: number | null = 0;
  let trap: string | undefined;
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (e instanceof ProcExit) exitCode = e.code;
    else {
      exitCode = null;
      trap = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
    }
  }
  const endAt = now();
  t = endAt;
  const done: DoneMessage = {
    type: 'done',
    id: msg.id,
    exitCode,
    stdout: concat(ctx.stdout, ctx.stdoutBytes),
    stderr: concat(ctx.stderr, ctx.stderrBytes),
    receivedAt,
    startAt,
    endAt,
    instantiateMs,
    memoryBytes: ctx.memory!.buffer.byteLength,
    outputTruncated: ctx.truncated,
    warmHit: warmOne !== undefined,
  };
  if (trap !== undefined) done.trap = trap;
  send(done);
  if (msg.warm) setImmediate(() => refill(msg.key));
});

send({ type: 'ready' });
