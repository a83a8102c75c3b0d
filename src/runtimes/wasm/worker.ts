/**
 * A WasmRuntime worker thread: holds compiled modules, instantiates one fresh instance per
 * invocation (or takes one made ahead for `warm`), runs its `_start`, and reports stdout,
 * stderr, the exit code and timestamps on its own clock (corrected by the main thread).
 */
import { parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { newHostContext, preview1Imports, ProcExit, type HostContext } from './preview1-host.js';
import { preview2Imports } from './preview2-host.js';
import type { DoneMessage, FromWorker, LoadMessage, RunMessage, ToWorker } from './protocol.js';

interface Ready {
  /** Runs the command: the preview1 `_start`, or the component's `wasi:cli/run` export. */
  start: () => void;
  memory: () => number;
  ctx: HostContext;
}

type Instantiate = (getCoreModule: (name: string) => WebAssembly.Module, imports: Record<string, unknown>) => Record<string, { run: () => void }>;

/** jco glue scripts, imported once per path. */
const glueScripts = new Map<string, Promise<Instantiate>>();
function glueScript(path: string): Promise<Instantiate> {
  let p = glueScripts.get(path);
  if (!p) glueScripts.set(path, (p = import(pathToFileURL(path).href).then((m: { instantiate: Instantiate }) => m.instantiate)));
  return p;
}
const glueReady = new Map<string, Instantiate>();
/** Functions whose glue script is still being imported. */
const pendingLoads = new Map<string, Promise<void>>();

const now = () => performance.timeOrigin + performance.now();
const loaded = new Map<string, LoadMessage>();
const ready = new Map<string, Ready[]>();
const encoder = new TextEncoder();
const port = parentPort!;

function instantiate(fn: LoadMessage): Ready {
  const ctx = newHostContext(fn.args, fn.env, fn.maxOutputBytes);
  if (fn.glue) {
    const component = glueReady.get(fn.glue.jsPath)!((name) => fn.glue!.modules[name]!, preview2Imports(ctx));
    const run = component.run ?? Object.entries(component).find(([k]) => k.startsWith('wasi:cli/run'))?.[1];
    return { start: () => run!.run(), memory: () => 0, ctx };
  }
  const instance = new WebAssembly.Instance(fn.module!, { wasi_snapshot_preview1: preview1Imports(ctx) });
  ctx.memory = instance.exports.memory as WebAssembly.Memory;
  return { start: instance.exports._start as () => void, memory: () => ctx.memory!.buffer.byteLength, ctx };
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
    if (msg.glue && !glueReady.has(msg.glue.jsPath)) {
      const path = msg.glue.jsPath;
      pendingLoads.set(
        msg.key,
        glueScript(path).then((f) => {
          glueReady.set(path, f);
          setImmediate(() => refill(msg.key));
        }),
      );
      return;
    }
    return setImmediate(() => refill(msg.key));
  }
  if (msg.type === 'drop') {
    loaded.delete(msg.key);
    ready.delete(msg.key);
    return;
  }
  const waiting = pendingLoads.get(msg.key);
  if (waiting) {
    // The glue script is still being imported: run once it is there (or report why not).
    return void waiting.then(
      () => {
        pendingLoads.delete(msg.key);
        onRun(msg);
      },
      (e: Error) => {
        pendingLoads.delete(msg.key);
        loaded.delete(msg.key);
        onRun(msg, `the component's glue could not be loaded: ${e.message}`);
      },
    );
  }
  onRun(msg);
});


function onRun(msg: RunMessage, loadError?: string): void {
  const receivedAt = now();
  const fn = loadError ? undefined : loaded.get(msg.key);
  if (!fn) {
    const t0 = now();
    return send({ type: 'done', id: msg.id, exitCode: null, stdout: new Uint8Array(), stderr: new Uint8Array(), trap: loadError ?? 'the function was undeployed', receivedAt, startAt: t0, endAt: t0, instantiateMs: 0, memoryBytes: 0, outputTruncated: false, warmHit: false });
  }
  const warmOne = msg.warm ? ready.get(msg.key)?.shift() : undefined;
  const t = now();
  const { start, memory, ctx } = warmOne ?? instantiate(fn);
  ctx.stdin = encoder.encode(msg.input);
  const startAt = now();
  const instantiateMs = warmOne ? 0 : startAt - t;
  let exitCode: number | null = 0;
  let trap: string | undefined;
  try {
    start();
  } catch (e) {
    if (e instanceof ProcExit) exitCode = e.code;
    else {
      exitCode = null;
      trap = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
    }
  }
  const endAt = now();
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
    memoryBytes: memory(),
    outputTruncated: ctx.truncated,
    warmHit: warmOne !== undefined,
  };
  if (trap !== undefined) done.trap = trap;
  send(done);
  if (msg.warm) setImmediate(() => refill(msg.key));
}

send({ type: 'ready' });
