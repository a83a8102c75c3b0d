/**
 * A WasmRuntime worker thread. It never returns to its event loop: it claims runs from the shared
 * slot table (`pool/shared-slots.ts`), makes or takes an instance, runs it, writes the result into the
 * slot, then claims the next. With nothing to run it makes instances ahead, polls briefly, then
 * sleeps on its wake word. Control messages (functions loaded and dropped, large inputs) arrive on
 * its port and are read synchronously. Times are reported on the main thread's clock.
 */
import { parentPort, receiveMessageOnPort, threadId, workerData } from 'node:worker_threads';
import { isStopSignal, OutputWriter, prepareStopSignal, Stop } from '../host/context.js';
import { preview1Imports } from '../host/preview1.js';
import { preview2Imports } from '../host/preview2.js';
import type { FromWorker, LoadMessage, ToWorker, WorkerData } from '../pool/protocol.js';
import { selfTestModule, SELF_TEST_FN } from './self-test.js';
import {
  Busy,
  Flag,
  GlobalWord,
  WorkerWord,
  Mode,
  offsetToMonotonic,
  Result,
  SlotWord,
  SANDBOX_SHIFT,
  SLOT_COUNT,
  SLOT_DATA_BYTES,
  SlotTable,
  State,
  SlotTime,
} from '../pool/shared-slots.js';
import { LoadedFunction, type Instance, type WorkerHost } from './loaded-function.js';
import { threadCpuClock } from './thread-cpu.js';

const data = workerData as WorkerData;
const table = new SlotTable(data.sab);
const { i32, f64, u8 } = table;
const me = data.index;
const port = data.port;
// performance.now() and the monotonic clock are one clock: the main thread's epoch ms is this thread's
// performance.now() plus both offsets to the monotonic clock.
const toMainClock = table.clockOffset - offsetToMonotonic(() => performance.now());
const now = () => performance.now() + toMainClock;
const w = (field: number) => table.worker(me, field);
const encoder = new TextEncoder();
/** This thread's CPU clock (a run's CPU time is the difference across it), or why there is none. */
const cpuClock = threadCpuClock();
const cpuAtClaim = new Float64Array(3);
const cpuAtEnd = new Float64Array(3).fill(Number.NaN);

const host = {
  stdout: new OutputWriter(data.maxOutputBytes),
  stderr: new OutputWriter(data.maxOutputBytes),
} as WorkerHost;
host.preview1 = preview1Imports(host);
host.preview2 = preview2Imports(host);
const functions = new Map<number, LoadedFunction>();
/** Functions with work for idle moments: instances to make ahead, to restore, memories to zero. */
const chores = new Set<LoadedFunction>();
/** Each slot's large-input buffer, as last shared by the pool. */
const bigInputs: Array<{ generation: number; bytes: Uint8Array } | undefined> = [];
let stdin = new Uint8Array(4096);
const NO_INPUT = new Uint8Array(0);
let controlSeen = 0;
let nextExpiry = Infinity;
/** Set by the pool's `go`, sent after the functions it already had: until then no run is claimed. */
let started = false;
/** After set-up (start, a function loaded) the first run usually follows at once: poll until then (performance.now() ms). */
let setupSpinUntil = 0;
const SETUP_SPIN_MS = 20;

function send(msg: FromWorker): void {
  parentPort!.postMessage(msg);
}

/** What went wrong, for a message; an exit in a start function (the instance being made) says so. */
function describe(e: unknown): string {
  if (isStopSignal(e))
    return host.ctx.stop === Stop.EXIT
      ? `its start function exited with code ${host.ctx.exitCode}`
      : 'its start function wrote past the stdout cap';
  return e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
}

function busy(kind: number, fnId = 0): void {
  f64[table.busySince(me)] = now();
  Atomics.store(i32, w(WorkerWord.BUSY_FN), fnId);
  Atomics.store(i32, w(WorkerWord.BUSY), kind);
}

function drainControl(): void {
  controlSeen = Atomics.load(i32, w(WorkerWord.CONTROL));
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message as ToWorker;
    if (msg.type === 'input-buffer')
      bigInputs[msg.slot] = { generation: msg.generation, bytes: new Uint8Array(msg.buffer) };
    else if (msg.type === 'go') started = true;
    else if (msg.type === 'stock-off') {
      const fn = functions.get(msg.fnId);
      if (fn) fn.stockOff = msg.reason;
    } else if (msg.type === 'drop') {
      const fn = functions.get(msg.fnId);
      functions.delete(msg.fnId);
      if (fn) {
        chores.delete(fn);
        cancelled(fn.dispose());
      }
    } else if (msg.type === 'hold') functions.get(msg.fnId)?.hold(msg.counts);
    else if (msg.type === 'prewarm') {
      const fn = functions.get(msg.fnId);
      if (!fn) send({ type: 'prewarmed', token: msg.token, cancelled: true });
      else {
        fn.prewarms.push(msg.token);
        chores.add(fn);
      }
    } else if (msg.type === 'discard') {
      const fn = functions.get(msg.fnId);
      if (fn) cancelled(fn.dropIdle(msg.at));
      send({ type: 'discarded', token: msg.token });
    } else load(msg);
  }
}

/** Answers pre-warms that will not be made. */
function cancelled(tokens: number[]): void {
  for (const token of tokens) send({ type: 'prewarmed', token, cancelled: true });
}

/**
 * Loads a function and does its set-up now: the first instance (which tells the pool whether it
 * can be instantiated at all), the instances made ahead, a spare memory. Instantiating a module
 * is slow the first few times in a thread (~1 ms, then ~0.2 ms): better here than in a run.
 */
function load(msg: LoadMessage): void {
  busy(Busy.INSTANTIATING, msg.fnId);
  let error: string | undefined;
  try {
    const fn = new LoadedFunction(msg, host, me);
    functions.set(msg.fnId, fn);
    // Making an instance of it outside a run crashed a worker before: its runs make their own.
    if (msg.lazy) fn.stockOff = 'making an instance outside a run crashed a worker thread';
    else error = setUp(fn);
  } catch (e) {
    error = describe(e);
  }
  busy(Busy.IDLE);
  setupSpinUntil = performance.now() + SETUP_SPIN_MS;
  send(error === undefined ? { type: 'loaded', fnId: msg.fnId } : { type: 'loaded', fnId: msg.fnId, error });
}

/** The first instance, the instances made ahead, a spare memory; the error that stopped it, if any. */
function setUp(fn: LoadedFunction): string | undefined {
  try {
    const first = fn.instantiate();
    if (fn.wantsStock()) fn.keepAhead(first);
    else fn.discard(first);
    while (fn.wantsStock()) fn.keepAhead(fn.instantiate());
    fn.spareMemory();
    rehearse(fn);
    return undefined;
  } catch (e) {
    return (fn.stockOff = describe(e));
  }
}

/**
 * Takes a function through a cold run's steps up to, not including, its first instruction: a
 * fresh instance over a pooled memory, stdio wired, then dropped, its memory zeroed back into the
 * pool. The first cold instance of a module in a thread costs several times a later one; that is
 * set-up, paid here. The function's own code never runs (its `_start` is not called).
 */
function rehearse(fn: LoadedFunction): void {
  let inst: Instance;
  try {
    inst = fn.instantiate();
  } catch {
    return; // a start function that fails now and then: the runs that meet it report it
  }
  inst.ctx.beginRun(NO_INPUT, host.stdout, host.stderr);
  fn.discard(inst);
  while (fn.tidy());
}

/** Claims the oldest queued slot this worker may take (any worker's, or its own), or returns -1. */
function claim(): number {
  while (table.claimable(me, data.workers) > 0) {
    let best = -1;
    let bestTicket = 0;
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (Atomics.load(i32, table.slot(s, SlotWord.STATE)) !== State.QUEUED) continue;
      const affinity = Atomics.load(i32, table.slot(s, SlotWord.AFFINITY));
      if (affinity !== 0 && affinity !== me + 1) continue;
      const ticket = i32[table.slot(s, SlotWord.TICKET)]!;
      if (best < 0 || ((ticket - bestTicket) | 0) < 0) {
        best = s;
        bestTicket = ticket;
      }
    }
    if (best < 0) return -1;
    if (
      Atomics.compareExchange(i32, table.slot(best, SlotWord.STATE), State.QUEUED, State.RUNNING + me) === State.QUEUED
    ) {
      if (Atomics.load(i32, table.slot(best, SlotWord.AFFINITY)) === me + 1) Atomics.sub(i32, w(WorkerWord.AFFINE), 1);
      Atomics.sub(i32, GlobalWord.QUEUED, 1);
      return best;
    }
  }
  return -1;
}

function readInput(s: number): Uint8Array | undefined {
  const len = i32[table.slot(s, SlotWord.INPUT_LEN)]!;
  if (len < 0) {
    const generation = i32[table.slot(s, SlotWord.BIG_GEN)]!;
    if (bigInputs[s]?.generation !== generation) drainControl();
    const big = bigInputs[s];
    return big?.generation === generation ? big.bytes.subarray(0, i32[table.slot(s, SlotWord.BIG_LEN)]) : undefined;
  }
  if (stdin.length < len) stdin = new Uint8Array(Math.max(len, stdin.length * 2));
  const base = table.data(s);
  stdin.set(u8.subarray(base, base + len));
  return stdin.subarray(0, len);
}

interface Ran {
  result: number;
  exitCode: number;
  message: string;
  sandbox: number;
  claimedAt: number;
  startAt: number;
  endAt: number;
  instantiateMs: number;
  instance: Instance | null;
}

/** Writes a run's result into its slot and hands the slot back. */
function publish(s: number, r: Ran): void {
  const out = host.stdout.view();
  const err = host.stderr.view();
  const message = r.message ? encoder.encode(r.message.slice(0, 2000)) : new Uint8Array(0);
  let flags = r.sandbox << SANDBOX_SHIFT;
  if (host.stdout.truncated) flags |= Flag.STDOUT_CUT;
  if (host.stderr.truncated) flags |= Flag.STDERR_CUT;
  if (r.instance?.growFailed()) flags |= Flag.GROW_FAILED;
  if (out.length + err.length + message.length <= SLOT_DATA_BYTES) {
    const base = table.data(s);
    u8.set(out, base);
    u8.set(err, base + out.length);
    u8.set(message, base + out.length + err.length);
  } else {
    flags |= Flag.VIA_PORT;
    const stdout = out.slice();
    const stderr = err.slice();
    port.postMessage({ runId: i32[table.slot(s, SlotWord.RUN_ID)], stdout, stderr, message: r.message }, [
      stdout.buffer,
      stderr.buffer,
    ]);
  }
  i32[table.slot(s, SlotWord.RESULT)] = r.result;
  i32[table.slot(s, SlotWord.EXIT_CODE)] = r.exitCode;
  i32[table.slot(s, SlotWord.STDOUT_LEN)] = out.length;
  i32[table.slot(s, SlotWord.STDERR_LEN)] = err.length;
  i32[table.slot(s, SlotWord.MESSAGE_LEN)] = message.length;
  i32[table.slot(s, SlotWord.FLAGS)] = flags;
  i32[table.slot(s, SlotWord.MEMORY_PAGES)] = r.instance ? r.instance.memoryBytes() / 65536 : 0;
  i32[table.slot(s, SlotWord.WORKER)] = me;
  i32[table.slot(s, SlotWord.SANDBOX_THREAD)] = threadId;
  i32[table.slot(s, SlotWord.SANDBOX_SERIAL)] = r.instance?.serial ?? 0;
  f64[table.time(s, SlotTime.CLAIMED_AT)] = r.claimedAt;
  f64[table.time(s, SlotTime.START_AT)] = r.startAt;
  f64[table.time(s, SlotTime.END_AT)] = r.endAt;
  f64[table.time(s, SlotTime.INSTANTIATE_MS)] = r.instantiateMs;
  f64[table.time(s, SlotTime.CPU_MS)] = cpuAtEnd[0]! - cpuAtClaim[0]!;
  f64[table.time(s, SlotTime.CPU_USER_MS)] = cpuAtEnd[1]! - cpuAtClaim[1]!;
  f64[table.time(s, SlotTime.CPU_SYSTEM_MS)] = cpuAtEnd[2]! - cpuAtClaim[2]!;
  Atomics.store(i32, table.slot(s, SlotWord.STATE), State.DONE);
  if (s >= SLOT_COUNT) return; // the self-test's own slot: nobody waits for it
  Atomics.add(i32, GlobalWord.DONE_SEQ, 1);
  if (Atomics.load(i32, GlobalWord.MAIN_WAITING) === 1) Atomics.notify(i32, GlobalWord.DONE_SEQ);
}

function runSlot(s: number): void {
  if (typeof cpuClock === 'function') cpuClock(cpuAtClaim);
  const claimedAt = now();
  // A message posted before this run was queued (a keeper's discard) is read before its instance is taken.
  if (Atomics.load(i32, w(WorkerWord.CONTROL)) !== controlSeen) drainControl();
  const fnId = i32[table.slot(s, SlotWord.FN)]!;
  const mode = i32[table.slot(s, SlotWord.MODE)]!;
  busy(Busy.RUN, fnId);
  let fn = functions.get(fnId);
  if (!fn) {
    drainControl();
    fn = functions.get(fnId);
  }
  // A run queued to take this worker's kept instance: no longer on its way.
  if (Atomics.load(i32, table.slot(s, SlotWord.AFFINITY)) === me + 1) fn?.held?.promise(me, -1);
  const input = readInput(s);
  const r: Ran = {
    result: Result.EXITED,
    exitCode: 0,
    message: '',
    sandbox: 0,
    claimedAt,
    startAt: claimedAt,
    endAt: claimedAt,
    instantiateMs: 0,
    instance: null,
  };
  host.stdout.reset();
  host.stderr.reset();
  if (!fn || !input) {
    r.result = Result.UNKNOWN_FUNCTION;
    r.message = fn ? 'the input did not reach the worker' : 'the function was undeployed';
    readCpu();
    publish(s, r);
    return busy(Busy.IDLE);
  }
  let inst = mode === Mode.warm ? fn.takeWarm() : undefined;
  if (inst) r.sandbox = 2;
  else if (mode !== Mode.cold && (inst = fn.takePrewarmed())) r.sandbox = 1;
  if (!inst) {
    const t0 = now();
    try {
      inst = fn.instantiate();
    } catch (e) {
      r.result = Result.INSTANTIATE_FAILED;
      r.message = describe(e);
      r.startAt = r.endAt = now();
      readCpu();
      publish(s, r);
      return busy(Busy.IDLE);
    }
    r.instantiateMs = now() - t0;
  }
  r.instance = inst;
  inst.ctx.beginRun(input, host.stdout, host.stderr);
  host.ctx = inst.ctx;
  r.startAt = now();
  f64[table.time(s, SlotTime.START_AT)] = r.startAt; // read by the pool if it stops the run
  try {
    inst.start();
  } catch (e) {
    if (!isStopSignal(e)) {
      r.result = Result.TRAPPED;
      r.message = describe(e);
    }
  }
  r.endAt = now();
  readCpu();
  // An exit or a full stdout stopped the run from inside a host call (the module cannot catch it).
  if (inst.ctx.stop === Stop.EXIT) r.exitCode = inst.ctx.exitCode;
  else if (inst.ctx.stop === Stop.OUTPUT_LIMIT) r.result = Result.OUTPUT_LIMIT;
  // Kept before the result is handed over: a keeper's count already has it when the caller sees the result.
  fn.release(inst, mode === Mode.warm, r.endAt);
  publish(s, r);
  if (mode === Mode.warm) nextExpiry = Math.min(nextExpiry, r.endAt + fn.spec.keepAliveMs);
  busy(Busy.IDLE);
  chores.add(fn);
  // The last instance made ahead was used: make the next one now, so `prewarmed` stays prewarmed under load.
  if (r.sandbox === 1 && fn.stocked === 0 && fn.wantsStock()) makeAhead(fn);
}

/** The thread's CPU time at a run's end (NaN without a clock: the pool then says why). */
function readCpu(): void {
  if (typeof cpuClock === 'function') cpuClock(cpuAtEnd);
}

/** Makes one instance ahead for `fn`; a failure stops making them (runs then instantiate in their own time). */
function makeAhead(fn: LoadedFunction): void {
  busy(Busy.INSTANTIATING, fn.spec.fnId);
  try {
    fn.keepAhead(fn.instantiate());
  } catch (e) {
    fn.stockOff = describe(e);
  }
  busy(Busy.IDLE);
}

/** Makes the instance a keeper asked for ahead, and says so (or why it could not). */
function prewarm(fn: LoadedFunction): void {
  const token = fn.prewarms.shift()!;
  busy(Busy.INSTANTIATING, fn.spec.fnId);
  let error: string | undefined;
  try {
    fn.keepAhead(fn.instantiate());
  } catch (e) {
    error = describe(e);
  }
  busy(Busy.IDLE);
  send(error === undefined ? { type: 'prewarmed', token } : { type: 'prewarmed', token, error });
}

/** One chore of an idle moment (a keeper's pre-warm, make an instance ahead, restore a kept instance, zero a memory); false when none is left. */
function background(): boolean {
  for (const fn of chores) {
    if (!functions.has(fn.spec.fnId)) chores.delete(fn);
    else if (fn.prewarms.length > 0) {
      prewarm(fn);
      return true;
    } else if (fn.wantsStock()) {
      makeAhead(fn);
      return true;
    } else if (fn.tidy()) return true;
    else chores.delete(fn);
  }
  return false;
}

function expire(): void {
  const t = now();
  if (t < nextExpiry) return;
  nextExpiry = Infinity;
  for (const fn of functions.values()) nextExpiry = Math.min(nextExpiry, fn.expire(t));
}

function workWaiting(): boolean {
  return table.claimable(me, data.workers) > 0 || Atomics.load(i32, w(WorkerWord.CONTROL)) !== controlSeen;
}

function serve(): never {
  for (;;) {
    const wake = Atomics.load(i32, w(WorkerWord.WAKE));
    if (Atomics.load(i32, w(WorkerWord.CONTROL)) !== controlSeen) drainControl();
    const s = claim();
    if (s >= 0) {
      runSlot(s);
      continue;
    }
    if (background()) continue;
    expire();
    // One worker at a time polls for idleSpinUs before sleeping (back-to-back runs skip a wake-up
    // each); the others poll a tenth of that, so a burst does not put them to sleep between runs.
    if (data.spinMs > 0) {
      const spinner = Atomics.compareExchange(i32, GlobalWord.SPINNER, 0, me + 1) === 0;
      const until = spinner
        ? Math.max(performance.now() + data.spinMs, setupSpinUntil)
        : performance.now() + data.spinMs / 10;
      if (spinner) setupSpinUntil = 0;
      while (!workWaiting() && performance.now() < until);
      if (spinner) Atomics.store(i32, GlobalWord.SPINNER, 0);
    }
    if (workWaiting()) continue;
    Atomics.store(i32, w(WorkerWord.PARKED), 1);
    if (!workWaiting())
      Atomics.wait(
        i32,
        w(WorkerWord.WAKE),
        wake,
        nextExpiry === Infinity ? undefined : Math.max(0, nextExpiry - now()),
      );
    Atomics.store(i32, w(WorkerWord.PARKED), 0);
  }
}

/** Runs the self-test through the real run path a few times, in this worker's own slot. */
function selfTest(): void {
  const { module, facts } = selfTestModule();
  load({
    type: 'load',
    fnId: SELF_TEST_FN,
    module,
    facts,
    args: ['self-test'],
    env: {},
    prewarmed: 1,
    warmMax: 1,
    keepAliveMs: 60_000,
  });
  const s = table.scratch(me);
  const input = encoder.encode('self-test');
  for (let i = 0; i < 30; i++) {
    u8.set(input, table.data(s));
    i32[table.slot(s, SlotWord.FN)] = SELF_TEST_FN;
    i32[table.slot(s, SlotWord.MODE)] = i % 3;
    i32[table.slot(s, SlotWord.INPUT_LEN)] = input.length;
    runSlot(s);
  }
}

prepareStopSignal();
selfTest();
send({ type: 'ready' });
while (!started) {
  const wake = Atomics.load(i32, w(WorkerWord.WAKE));
  drainControl();
  if (!started) Atomics.wait(i32, w(WorkerWord.WAKE), wake);
}
serve();
