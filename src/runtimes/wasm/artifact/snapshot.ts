/**
 * Pre-initialisation at deploy: whether a function's main module is pre-initialised (`preinit`
 * 'auto', true or false), its snapshot made by Wizer (`preinit.ts`), and what a deploy reports of it.
 */
import { NebulaError } from '../../../errors.js';
import type { SnapshotInfo } from '../../../types.js';
import { Reader, readSections } from '../binary/codec.js';
import { DEFAULT_INIT_FUNC, hasInitializer, preinitialize } from './preinit.js';

/** What a function asks of pre-initialisation, as `prepareArtifact` takes it. */
export interface PreinitRequest {
  mode: 'auto' | boolean;
  /** @default 'wizer.initialize' */
  initFunc?: string;
  /** Let the initialiser call WASI (`grants.initWasi`). */
  allowWasi?: boolean;
  /** Longest Wizer may take, ms. */
  timeoutMs?: number;
}

/** A snapshot made now, or why none was made though the module has an initialiser. */
export type SnapshotOutcome =
  { bytes: Uint8Array; info: Omit<SnapshotInfo, 'cached'> } | { skipped: string } | undefined;

const PAGE = 65536;

/** The initial size of the first memory a core module defines, bytes (0 without one). */
function initialMemoryBytes(bytes: Uint8Array): number {
  try {
    const memory = readSections(bytes).find((s) => s.id === 5);
    if (!memory) return 0;
    const r = new Reader(memory.body);
    if (r.u32() === 0) return 0;
    r.byte();
    return r.u32() * PAGE;
  } catch {
    return 0;
  }
}

/** The key of a request in the artifact cache: every setting that changes the snapshot. */
export function preinitKey(request: PreinitRequest | undefined): string {
  if (!request || request.mode === false) return 'plain';
  return `${String(request.mode)}:${request.initFunc ?? DEFAULT_INIT_FUNC}:${request.allowWasi ? 'wasi' : 'no-wasi'}`;
}

/**
 * Runs the main module's initialiser with Wizer when the request says so: always for `true`; for
 * `'auto'` when the module exports the initialiser and Wizer is installed (else `skipped` says why).
 * @throws NebulaError `INVALID_FUNCTION` with `details.reason` for a module or initialiser that
 * cannot be snapshotted (under `'auto'` the message says how to deploy it without);
 * `RUNTIME_UNAVAILABLE` for `true` without Wizer.
 */
export async function snapshotOf(
  name: string,
  main: Uint8Array,
  request: PreinitRequest | undefined,
  memoryMaxBytes: number,
  maxSnapshotBytes: number,
): Promise<SnapshotOutcome> {
  if (!request || request.mode === false) return undefined;
  const initFunc = request.initFunc ?? DEFAULT_INIT_FUNC;
  if (request.mode === 'auto' && !hasInitializer(main, initFunc)) return undefined;
  try {
    const snap = await preinitialize(main, {
      name,
      initFunc,
      allowWasi: request.allowWasi === true,
      maxMemoryBytes: memoryMaxBytes,
      maxSnapshotBytes,
      ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    });
    return {
      bytes: snap.bytes,
      info: {
        tool: `wizer ${snap.wizerVersion}`,
        initFunc,
        snapshotMs: snap.initMs,
        originalBytes: snap.sizeBefore,
        snapshotBytes: snap.sizeAfter,
        originalMemoryBytes: initialMemoryBytes(main),
        snapshotMemoryBytes: initialMemoryBytes(snap.bytes),
      },
    };
  } catch (e) {
    if (request.mode !== 'auto' || !(e instanceof NebulaError)) throw e;
    if (e.code === 'RUNTIME_UNAVAILABLE') return { skipped: `its initialiser runs at each start: ${e.message}` };
    if (e.code !== 'INVALID_FUNCTION') throw e;
    throw new NebulaError(
      'INVALID_FUNCTION',
      `${e.message} It exports "${initFunc}", so it is pre-initialised by default; deploy it with preinit: false to run its initialisation at each start instead.`,
      { cause: e.cause ?? e, details: e.details },
    );
  }
}
