/** Messages between the WasmRuntime (main thread) and its worker threads. */

export interface LoadMessage {
  type: 'load';
  key: string;
  /** The preview1 command's main core module (kind `preview1`). */
  module?: WebAssembly.Module;
  /** jco's instantiation script and its core modules (kind `glue`). */
  glue?: { jsPath: string; modules: Record<string, WebAssembly.Module> };
  args: string[];
  env: Record<string, string>;
  memoryMaxBytes: number;
  maxOutputBytes: number;
  /** Instances to keep ready for `warm` invocations. */
  warm: number;
}

export interface RunMessage {
  type: 'run';
  id: number;
  key: string;
  input: string;
  warm: boolean;
}

export interface DropMessage {
  type: 'drop';
  key: string;
}

export interface PingMessage {
  type: 'ping';
  t: number;
}

export type ToWorker = LoadMessage | RunMessage | DropMessage | PingMessage;

export interface DoneMessage {
  type: 'done';
  id: number;
  /** `null` when the function trapped. */
  exitCode: number | null;
  stdout: Uint8Array;
  stderr: Uint8Array;
  trap?: string;
  /** Worker clock (epoch ms): message received, function start, function end. */
  receivedAt: number;
  startAt: number;
  endAt: number;
  /** ms spent creating the instance (0 for a warm one). */
  instantiateMs: number;
  memoryBytes: number;
  outputTruncated: boolean;
  /** A warm instance was used. */
  warmHit: boolean;
}

export interface PongMessage {
  type: 'pong';
  t: number;
  workerT: number;
}

export type FromWorker = DoneMessage | PongMessage | { type: 'ready' };
