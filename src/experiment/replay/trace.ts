/**
 * Workload traces as arrivals: the Azure Functions 2019 invocation-count format (a row per
 * function, `HashOwner,HashApp,HashFunction,Trigger,1..1440`, invocations per minute of the day,
 * spread evenly inside each minute) and a plain CSV of `time,function` arrivals (seconds from the
 * trace's start). Everything is checked before anything runs: a mistake names its line.
 */
import { UsageError } from '../../errors.js';

/** One arrival of a trace: its time, ms from the start of the trace's day (Azure) or of the trace (CSV), and the trace's function. */
export interface TraceArrival {
  atMs: number;
  function: string;
}

/** A parsed trace. */
export interface Trace {
  format: 'azure-2019' | 'time-function';
  /** The trace's functions, in the order first seen. */
  functions: string[];
  /** The application of each function (`functions[i]`'s is `apps[i]`), where the format has them (Azure: HashApp). */
  apps?: string[];
  /** Arrivals, ascending in time. */
  arrivals: TraceArrival[];
}

/** Invocations a trace may hold: one over it is refused before anything runs. */
export const MAX_TRACE_ARRIVALS = 1_000_000;
const MINUTE_MS = 60_000;
const AZURE_KEYS = ['HashOwner', 'HashApp', 'HashFunction'];

const bad = (where: string, what: string) => new UsageError('INVALID_CONFIG', `Trace ${where}: ${what}`);

/** A window of the trace, ms from its start: arrivals outside it are left out. */
export interface TraceWindow {
  fromMs: number;
  toMs: number;
}

/**
 * Parses a trace's text (the format is told by its header).
 * @param name how messages name the trace (its path)
 * @throws UsageError `INVALID_CONFIG`: a header of another format, a negative or non-numeric count,
 * a line of the wrong shape, more than {@link MAX_TRACE_ARRIVALS} invocations, no arrival at all.
 */
export function parseTrace(text: string, name: string, window?: TraceWindow): Trace {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').trim();
  const columns = header.split(',').map((c) => c.trim());
  let trace: Trace;
  if (AZURE_KEYS.every((k, i) => columns[i] === k)) trace = parseAzure(lines, columns, name, window);
  else if (columns.length === 2 && columns[0] === 'time' && columns[1] === 'function')
    trace = parseTimeFunction(lines, name, window);
  else throw bad(name, `line 1 is not a header of a known format: ${describeHeader(columns)}`);
  if (!trace.arrivals.length) throw bad(name, `holds no invocation${window ? ' inside the window' : ''}.`);
  return trace;
}

/** What a header that is not ours looks like, so the message says what the file is. */
function describeHeader(columns: string[]): string {
  const head = columns.slice(0, 6).join(',');
  if (columns.includes('Average') || columns.includes('percentile_Average_0'))
    return `"${head}..." is an Azure 2019 duration or memory file; give the invocations file (invocations_per_function_md.anon.d01.csv: HashOwner,HashApp,HashFunction,Trigger,1,...,1440).`;
  if (AZURE_KEYS.every((k, i) => columns[i] === k))
    return `"${head}..." has the Azure 2019 keys but not Trigger,1,...,1440 after them.`;
  return `"${head}"; expected HashOwner,HashApp,HashFunction,Trigger,1,...,1440 (Azure Functions 2019 invocations) or time,function (seconds, name).`;
}

function parseAzure(lines: string[], columns: string[], name: string, window?: TraceWindow): Trace {
  const minutes = columns.slice(4);
  if (columns[3] !== 'Trigger' || !minutes.length || minutes.some((m, i) => m !== String(i + 1)))
    throw bad(name, `line 1 is not a header of a known format: ${describeHeader(columns)}`);
  const counts: Array<{ fn: string; app: string; perMinute: number[] }> = [];
  let total = 0;
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const cells = line.split(',');
    if (cells.length !== columns.length)
      throw bad(`${name}:${i + 1}`, `has ${cells.length} columns, the header ${columns.length}.`);
    const fn = `${cells[1]!.trim()}/${cells[2]!.trim()}`;
    if (!cells[2]!.trim()) throw bad(`${name}:${i + 1}`, 'has no HashFunction.');
    if (seen.has(fn)) throw bad(`${name}:${i + 1}`, `function ${fn} is listed twice.`);
    seen.add(fn);
    const perMinute = cells.slice(4).map((c, m) => {
      const v = c.trim();
      if (!/^\d+$/.test(v))
        throw bad(`${name}:${i + 1}`, `minute ${m + 1} holds "${v}", not a count (a whole number of 0 or more).`);
      return Number(v);
    });
    for (const [m, n] of perMinute.entries()) if (inWindow(m * MINUTE_MS, window)) total += n;
    if (total > MAX_TRACE_ARRIVALS) throw tooMany(name, total);
    counts.push({ fn, app: cells[1]!.trim(), perMinute });
  }
  const arrivals: TraceArrival[] = [];
  for (const { fn, perMinute } of counts)
    for (const [m, n] of perMinute.entries()) {
      if (!n || !inWindow(m * MINUTE_MS, window)) continue;
      // Spread evenly inside the minute, each in the middle of its share of it.
      for (let k = 0; k < n; k++) arrivals.push({ atMs: m * MINUTE_MS + ((k + 0.5) * MINUTE_MS) / n, function: fn });
    }
  arrivals.sort((a, b) => a.atMs - b.atMs);
  return {
    format: 'azure-2019',
    functions: counts.map((c) => c.fn),
    apps: counts.map((c) => c.app),
    arrivals,
  };
}

function parseTimeFunction(lines: string[], name: string, window?: TraceWindow): Trace {
  const arrivals: TraceArrival[] = [];
  const functions: string[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const cells = line.split(',');
    if (cells.length !== 2) throw bad(`${name}:${i + 1}`, `has ${cells.length} columns; expected time,function.`);
    const t = cells[0]!.trim();
    const fn = cells[1]!.trim();
    if (!/^\d+(\.\d+)?$/.test(t)) throw bad(`${name}:${i + 1}`, `time "${t}" is not a number of seconds of 0 or more.`);
    if (!fn) throw bad(`${name}:${i + 1}`, 'has no function.');
    const atMs = Number(t) * 1000;
    if (!inWindow(atMs, window)) continue;
    if (arrivals.length >= MAX_TRACE_ARRIVALS) throw tooMany(name, arrivals.length + 1);
    if (!seen.has(fn)) {
      seen.add(fn);
      functions.push(fn);
    }
    arrivals.push({ atMs, function: fn });
  }
  arrivals.sort((a, b) => a.atMs - b.atMs);
  return { format: 'time-function', functions, arrivals };
}

const inWindow = (atMs: number, w?: TraceWindow) => !w || (atMs >= w.fromMs && atMs < w.toMs);

const tooMany = (name: string, n: number) =>
  bad(
    name,
    `holds ${n} invocations or more in what is replayed, over the limit of ${MAX_TRACE_ARRIVALS}: choose a shorter window of the day (--window) or a smaller trace.`,
  );
