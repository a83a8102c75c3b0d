/** Control messages between the WasmRuntime's pool (main thread) and its worker threads; runs go through `shared-slots.ts`. */
import type { MessagePort } from 'node:worker_threads';
import type { ModuleFacts } from '../binary/module-rewrite.js';

/** Sends a compiled function to a worker. */
export interface LoadMessage {
  type: 'load';
  fnId: number;
  /** A preview1 command's (rewritten) core module, and what the rewrite found. */
  module?: WebAssembly.Module;
  facts?: ModuleFacts;
  /** jco's instantiation script and its compiled core modules by file name (native WASI 0.2 components). */
  glue?: { jsPath: string; modules: Record<string, WebAssembly.Module> };
  args: string[];
  env: Record<string, string>;
  /** Instances kept created ahead for `prewarmed` invocations, per worker (0: none). */
  prewarmed: number;
  /** Used instances kept for `warm` invocations, per worker, and how long one may stay idle. */
  warmMax: number;
  keepAliveMs: number;
  /** Make no instance at load (making one crashed a worker before): runs make their own. */
  lazy?: boolean;
  /** Set once a keeper holds the function (see {@link HoldMessage}): a replaced worker starts held too. */
  held?: SharedArrayBuffer;
}

/**
 * A keeper holds the function: its idle instances stay until a `discard`, none is made ahead but
 * on a `prewarm`, and each worker writes how many it keeps idle into its Int32 of `counts`.
 */
interface HoldMessage {
  type: 'hold';
  fnId: number;
  counts: SharedArrayBuffer;
}

/** Make one instance of a held function ahead, in an idle moment; answered by `prewarmed` with the same token. */
interface PrewarmMessage {
  type: 'prewarm';
  fnId: number;
  token: number;
}

/**
 * Drop a held function's instances idle at `at` (epoch ms), and its pre-warms not made yet (each
 * answered as cancelled); answered by `discarded` with the same token.
 */
interface DiscardMessage {
  type: 'discard';
  fnId: number;
  at: number;
  token: number;
}

interface DropMessage {
  type: 'drop';
  fnId: number;
}

/** Stop making instances of a function ahead (making one hung or failed in some worker). */
interface StockOffMessage {
  type: 'stock-off';
  fnId: number;
  reason: string;
}

/** A slot's large-input buffer (inputs over the slot's own room), shared with every worker when it is made or replaced. */
interface InputBufferMessage {
  type: 'input-buffer';
  slot: number;
  generation: number;
  buffer: SharedArrayBuffer;
}

/** Everything the pool had for a (re)started worker has been sent: it may claim runs. */
interface GoMessage {
  type: 'go';
}

export type ToWorker =
  | LoadMessage
  | DropMessage
  | StockOffMessage
  | InputBufferMessage
  | GoMessage
  | HoldMessage
  | PrewarmMessage
  | DiscardMessage;

/** Worker to pool, as events: started; a function's first instance was made (or could not be); a pre-warm ended. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'loaded'; fnId: number; error?: string }
  /** A pre-warm is over: made, `cancelled` by a discard (or the function's drop), or failed with `error`. */
  | { type: 'prewarmed'; token: number; cancelled?: boolean; error?: string }
  | { type: 'discarded'; token: number };

/** Outputs too large for the slot, through the port (read synchronously by the pool). */
export interface OutputMessage {
  runId: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  message: string;
}

/** What a worker is started with. */
export interface WorkerData {
  sab: SharedArrayBuffer;
  port: MessagePort;
  index: number;
  /** Workers in the pool. */
  workers: number;
  /** How long an idle worker polls for work before it sleeps, ms. */
  spinMs: number;
  maxOutputBytes: number;
}
