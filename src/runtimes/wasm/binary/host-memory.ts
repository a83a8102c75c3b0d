/**
 * What an instance makes the host hold beside its linear memory (tables, globals, tags, exports,
 * segments, per-function bookkeeping), estimated at deploy, and the plan that keeps it and the
 * linear memory inside the function's memory cap together.
 *
 * V8 keeps most of it on the worker thread's JavaScript heap. One instantiation that allocates
 * far past that heap's limit aborts the whole process (V8's fatal out-of-memory, not the worker's
 * recoverable one): a 10 000 000-entry funcref table, 153 bytes of module, did. Measured on Node 20
 * (V8 11.3) in a worker with a 256 MiB heap, per instance: a funcref table entry 27 bytes (15 on
 * the heap), a table 600, a tag 30, an exported function 190, a defined function 8, a passive
 * element entry 8 (on first use), a data segment 14; an i32 global 4 (off the heap). Instances
 * allocating 30 MiB each ended in the worker's own out-of-memory error, 60 MiB ones aborted the
 * process. So the estimate below rounds those figures up, counts against `limits.memoryMiB`, and
 * may not pass {@link HOST_BYTES_LIMIT} per instance whatever the cap.
 */
import type { ModuleInfo } from './module-info.js';

const PAGE = 65536;
const MiB = 1024 * 1024;

/** The most host memory (outside linear memory) one instance may make the host hold, bytes. */
export const HOST_BYTES_LIMIT = 8 * MiB;

/** Bytes per item, rounded up from the measurements above. */
const COST = {
  table: 640,
  tableEntry: 32,
  tag: 32,
  export: 192,
  function: 8,
  passiveElemEntry: 16,
  dataSegment: 16,
} as const;

/** A global's slot: its value's size (references as 8). */
function globalBytes(valType: string): number {
  if (valType === '7f' || valType === '7d') return 4;
  if (valType === '7b') return 16;
  return 8;
}

/** A module whose initial memory and host memory cannot fit its cap; the message says why. */
export class DoesNotFit extends Error {}

/** What the plan decided: the memory and table maxima to write into the module, and what it all costs. */
export interface MemoryPlan {
  /** Maximum of each defined memory, pages (the first gets what the cap leaves; others keep their initial size). */
  memoryMaxPages: number[];
  /** Maximum of each defined table, entries. */
  tableMax: number[];
  /** Host memory per instance outside linear memory, bytes (tables at their maximum). */
  hostBytes: number;
  /** Initial linear memory, bytes (all defined memories). */
  initialMemoryBytes: number;
}

/**
 * Host memory one instance takes besides its linear memory and tables, bytes. `addedExports`:
 * what the host's rewrite exports besides the module's own.
 */
function fixedHostBytes(info: ModuleInfo, addedExports: number): number {
  let bytes =
    info.tables.length * COST.table +
    info.tags * COST.tag +
    (info.exports.length + addedExports) * COST.export +
    (info.importedFuncs + info.funcTypes.length) * COST.function +
    info.passiveElemEntries * COST.passiveElemEntry +
    info.dataSegments * COST.dataSegment;
  for (const g of info.globals) bytes += globalBytes(g.valType);
  return bytes;
}

/**
 * Plans a module's memory and table maxima so that linear memory and host memory together stay
 * within `capBytes`, and host memory within {@link HOST_BYTES_LIMIT}. Each table keeps its declared
 * maximum while that fits (in order); a table with no maximum, or whose maximum does not fit,
 * keeps its initial size, so `table.grow` past it fails as the spec allows.
 * @returns the plan, or why the module cannot fit (a sentence for the deploy error).
 */
export function planMemory(
  info: ModuleInfo,
  capBytes: number,
  addedExports: number,
): { plan: MemoryPlan } | { refused: string } {
  const fixed = fixedHostBytes(info, addedExports);
  const initialMemoryBytes = info.memories.reduce((n, m) => n + m.min * PAGE, 0);
  const initialEntries = info.tables.reduce((n, t) => n + t.limits.min, 0);
  const atInitial = fixed + initialEntries * COST.tableEntry;
  if (initialMemoryBytes > capBytes)
    return {
      refused: `it declares ${(initialMemoryBytes / MiB).toFixed(0)} MiB of initial memory, over its memory cap of ${(capBytes / MiB).toFixed(0)} MiB (limits.memoryMiB): raise the cap or build it with less initial memory.`,
    };
  const limit = Math.min(HOST_BYTES_LIMIT, capBytes - initialMemoryBytes);
  if (atInitial > limit) return { refused: refusal(info, atInitial, initialMemoryBytes, capBytes) };
  // Declared growth room is kept, table by table, while it fits; the rest keep their initial size.
  let hostBytes = atInitial;
  const tableMax = info.tables.map((t) => {
    const { min, max } = t.limits;
    if (max === undefined || max <= min || hostBytes + (max - min) * COST.tableEntry > limit) return min;
    hostBytes += (max - min) * COST.tableEntry;
    return max;
  });
  const room = Math.floor((capBytes - hostBytes) / PAGE);
  const memoryMaxPages = info.memories.map((m, i) =>
    i === 0 ? Math.max(m.min, Math.min(m.max ?? room, room - otherInitialPages(info))) : m.min,
  );
  return { plan: { memoryMaxPages, tableMax, hostBytes, initialMemoryBytes } };
}

function otherInitialPages(info: ModuleInfo): number {
  return info.memories.slice(1).reduce((n, m) => n + m.min, 0);
}

/** Why a module's instance cannot fit: the biggest parts named, in MiB. */
function refusal(info: ModuleInfo, hostBytes: number, initialMemoryBytes: number, capBytes: number): string {
  const mib = (b: number) => (b / MiB).toFixed(b < 10 * MiB ? 2 : 0);
  const entries = info.tables.reduce((n, t) => n + t.limits.min, 0);
  const parts = [
    entries ? `tables of ${entries} entries` : '',
    info.funcTypes.length > 100_000 ? `${info.funcTypes.length} functions` : '',
    info.exports.length > 10_000 ? `${info.exports.length} exports` : '',
    info.globals.length > 100_000 ? `${info.globals.length} globals` : '',
    info.tags > 10_000 ? `${info.tags} tags` : '',
    info.passiveElemEntries > 100_000 ? `passive element segments of ${info.passiveElemEntries} entries` : '',
  ].filter(Boolean);
  const what = `its instance would make the host hold about ${mib(hostBytes)} MiB beside its linear memory${parts.length ? ` (${parts.join(', ')})` : ''}`;
  if (capBytes - initialMemoryBytes >= HOST_BYTES_LIMIT)
    return `${what}, over the ${mib(HOST_BYTES_LIMIT)} MiB an instance may take outside its linear memory.`;
  return `${what}, which with ${mib(initialMemoryBytes)} MiB of initial memory is over its memory cap of ${mib(capBytes)} MiB (limits.memoryMiB counts both): raise the cap or make the module smaller.`;
}
