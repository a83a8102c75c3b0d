/**
 * An experiment's folder: `run.json` (the resolved configuration and plan, written when the run
 * starts and at each phase), `records.jsonl` (one line per measured invocation, written through),
 * `summary.json` (written when the run ends). A folder is reportable from `run.json` and the
 * records alone, so a run killed midway (kill -9, power loss) loses nothing it recorded.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isRuntimeKind } from '../runtimes/registry.js';
import type { Baseline, BatchEnergy, FunctionInfo, InvocationRecord } from '../types.js';
import type { RunLoad } from './run/machine.js';
import { resolveConfig, type ResolvedConfig } from './run/config.js';
import { cellKey, type Cell } from './cell.js';
import { summarizeRecords, type ExperimentResult } from './analysis/summary.js';
import { TWIN_SUFFIX, type RunSnapshot } from './run/preinit-variants.js';

/**
 * The files of a run's folder (an experiment's, a load's or a replay's), the one list of them:
 * no export replaces any of these in a folder that holds a run.
 */
export const RUN_FILES = {
  run: 'run.json',
  records: 'records.jsonl',
  summary: 'summary.json',
  markdown: 'report.md',
  html: 'report.html',
  /** A load run's rows. */
  steps: 'steps.csv',
  /** A replay's rows. */
  policies: 'policies.csv',
  /** A replay's idle sandboxes kept over time, appended as counted. */
  kept: 'kept.jsonl',
} as const;

/** What `run.json` holds: enough to summarise the records without `summary.json`. */
export interface RunFile {
  /** Format marker of the file. */
  format: 'nebula-run/1';
  startedAt: string;
  config: ResolvedConfig;
  machine: Record<string, string | number>;
  meter: ExperimentResult['meter'];
  baseline: Baseline | null;
  notes: string[];
  /** The planned cells (empty until the runtimes are prepared). */
  cells: Cell[];
  /** The functions run, with what exactly each runtime ran (path, sha256, image and image id), once prepared. */
  functions?: FunctionInfo[];
  /** How busy the machine was at the start (and, once written at the end, at the end). */
  load?: RunLoad;
  /** The snapshots pre-initialised functions of the run start from (once prepared). */
  snapshots?: RunSnapshot[];
}

/**
 * Checks that `dir` can take a new run: it does not exist yet and can be created, or is an empty
 * folder that can be written.
 * @throws UsageError `INVALID_CONFIG` when it holds anything (runs are never mixed), is a file, or cannot be made or written.
 */
export function checkOutDir(dir: string): void {
  if (!existsSync(dir)) {
    // The nearest folder that exists is where the run's folders will be made.
    let parent = dirname(resolve(dir));
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    if (!statSync(parent).isDirectory()) throw outDirError(dir, `cannot be created: ${parent} is a file`);
    if (!canWriteIn(parent))
      throw outDirError(
        dir,
        `cannot be created: ${parent} cannot be written (no permission, or a read-only file system)`,
      );
    return;
  }
  if (!statSync(dir).isDirectory()) throw outDirError(dir, 'is a file, not a folder');
  if (!canWriteIn(dir)) throw outDirError(dir, 'cannot be written (no permission, or a read-only file system)');
  const entries = readdirSync(dir);
  if (entries.length)
    throw outDirError(
      dir,
      `already holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}; each run needs its own empty folder, so runs are never mixed (choose another one, or leave it out for a new timestamped folder)`,
    );
}

/**
 * Makes `dir` ready for a new run: checks it ({@link checkOutDir}) and creates it.
 * @throws UsageError `INVALID_CONFIG` when it is not empty or cannot be created.
 */
export function claimOutDir(dir: string): void {
  checkOutDir(dir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw outDirError(dir, `cannot be created: ${(e as Error).message}`);
  }
}

/**
 * True when a file can be made in `dir`, found by making (and removing) an empty folder there:
 * permission bits say nothing for root, nor for /proc or a read-only mount.
 */
export function canWriteIn(dir: string): boolean {
  try {
    rmdirSync(mkdtempSync(join(dir, '.nebula-check-')));
    return true;
  } catch {
    return false;
  }
}

function outDirError(dir: string, what: string): UsageError {
  return new UsageError('INVALID_CONFIG', `Experiment config: outDir ${dir} ${what}.`, {
    details: { field: 'outDir' },
  });
}

/** Writes a JSON file atomically (a temporary file renamed over it), so a crash leaves the old or the new one. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

/** The records of a records.jsonl; lines that do not parse (cut off by a crash) are counted, not fatal. */
export function readRecords(path: string): { records: InvocationRecord[]; skipped: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { records: [], skipped: 0 };
  }
  const records: InvocationRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as InvocationRecord;
      // Names and codes are read as keys and shown: a line that lacks them, or holds other types, is not a record.
      if (
        r &&
        typeof r === 'object' &&
        typeof r.id === 'string' &&
        typeof r.function === 'string' &&
        typeof r.runtime === 'string' &&
        typeof r.mode === 'string' &&
        typeof r.ok === 'boolean' &&
        r.timing &&
        typeof r.timing === 'object'
      )
        records.push(r);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new UsageError('INVALID_CONFIG', `${path} is not readable JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** A recorded experiment, summarised again from its records. */
export interface LoadedRun {
  result: ExperimentResult;
  records: InvocationRecord[];
}

/**
 * Loads an experiment folder and summarises its records again. Uses summary.json when the run
 * finished, else run.json (an interrupted run), else the records alone; says which in the notes.
 * Records from outside the run's time span (another run's) are left out and counted in a note.
 * @throws UsageError `INVALID_CONFIG` when the folder holds no experiment.
 */
export function loadRun(dir: string): LoadedRun {
  const summary = readJson<ExperimentResult>(join(dir, RUN_FILES.summary));
  const run = summary ? undefined : readJson<RunFile>(join(dir, RUN_FILES.run));
  const recordsPath = join(dir, RUN_FILES.records);
  if (!summary && !run && !existsSync(recordsPath))
    throw new UsageError('INVALID_CONFIG', `${dir} holds no experiment: no summary.json, run.json or records.jsonl.`, {
      details: { field: 'dir' },
    });
  const read = readRecords(recordsPath);
  const notes: string[] = [];
  if (read.skipped)
    notes.push(
      `${read.skipped} line${read.skipped === 1 ? '' : 's'} of records.jsonl could not be read (cut off when the run was stopped?) and ${read.skipped === 1 ? 'was' : 'were'} skipped.`,
    );
  let result: ExperimentResult;
  if (summary) result = { ...summary, notes: [...summary.notes] };
  else if (run) {
    notes.push(
      `This run did not finish (no summary.json): the report is made from run.json and the records written before it stopped.`,
    );
    result = fromRunFile(run, read.records);
  } else {
    notes.push(
      'No run.json or summary.json: the report is made from records.jsonl alone (configuration unknown; cells as found in the records).',
    );
    result = fromRecords(dir, read.records);
  }
  const from = Date.parse(result.startedAt);
  const to = summary ? Date.parse(result.finishedAt) : Number.POSITIVE_INFINITY;
  const records = read.records.filter((r) => {
    const t = Date.parse(r.startedAt);
    return !(t < from || t > to);
  });
  const outside = read.records.length - records.length;
  if (outside)
    notes.push(
      `${outside} record${outside === 1 ? '' : 's'} from outside this run's time span (another run's?) ${outside === 1 ? 'was' : 'were'} left out.`,
    );
  const batches = new Map<string, BatchEnergy>();
  for (const c of result.cells) if (c.batch) batches.set(cellKey(c), c.batch);
  const again = summarizeRecords(records, result.cells, {
    seed: result.config.seed,
    baseline: result.config.baseline,
    batches,
    isolated: result.baseline !== null,
    estimate: result.meter?.estimate ?? false,
    // Runs from before the option existed have none: one at a time.
    shares: ((result.config as { concurrency?: number }).concurrency ?? 1) > 1,
  });
  result.cells = again.cells;
  result.comparisons = again.comparisons;
  result.outputCheck = again.outputCheck;
  result.notes.push(...notes);
  result.micro ??= [];
  return { result, records };
}

function lastRecordTime(records: InvocationRecord[], fallback: string): string {
  return records.length ? records[records.length - 1]!.startedAt : fallback;
}

function fromRunFile(run: RunFile, records: InvocationRecord[]): ExperimentResult {
  const cells = run.cells.length ? run.cells : cellsOf(records);
  return {
    startedAt: run.startedAt,
    finishedAt: lastRecordTime(records, run.startedAt),
    interrupted: true,
    config: run.config,
    machine: run.machine,
    meter: run.meter,
    baseline: run.baseline,
    notes: [...run.notes],
    cells: cells.map((c) => ({ ...c, ok: 0, failed: 0, errors: {}, mismatched: 0, metrics: {} })),
    comparisons: [],
    outputCheck: { groups: 0, records: 0, mismatches: [] },
    micro: [],
    ...(run.functions ? { functions: run.functions } : {}),
    ...(run.load ? { load: run.load } : {}),
    ...(run.snapshots ? { snapshots: run.snapshots } : {}),
  };
}

function fromRecords(dir: string, records: InvocationRecord[]): ExperimentResult {
  const cells = cellsOf(records);
  // Every runtime found, registered in this process or not (a report needs no runtime to run).
  const runtimes = [...new Set(cells.map((c) => c.runtime))];
  const known = runtimes.filter(isRuntimeKind);
  const resolved = resolveConfig({
    outDir: dir,
    functions: [...new Set(cells.map((c) => c.function))],
    ...(known.length ? { runtimes: known } : {}),
  });
  const config = runtimes.length ? { ...resolved, runtimes } : resolved;
  const withEnergy = records.find((r) => r.energy);
  const first = records[0]?.startedAt ?? new Date(0).toISOString();
  return {
    startedAt: first,
    finishedAt: lastRecordTime(records, first),
    interrupted: true,
    config,
    machine: {},
    meter: withEnergy?.energy
      ? { name: withEnergy.energy.meter, estimate: withEnergy.energy.estimate, intervalMs: Number.NaN }
      : null,
    // The records carry the baseline that was subtracted from them.
    baseline:
      withEnergy?.energy && withEnergy.energy.baselineW > 0
        ? {
            powerW: withEnergy.energy.baselineW,
            stdW: Number.NaN,
            samples: 0,
            durationMs: 0,
            meter: withEnergy.energy.meter,
          }
        : null,
    notes: [],
    cells: cells.map((c) => ({ ...c, ok: 0, failed: 0, errors: {}, mismatched: 0, metrics: {} })),
    comparisons: [],
    outputCheck: { groups: 0, records: 0, mismatches: [] },
    micro: [],
  };
}

/** The distinct cells of some records, in the order first seen. */
function cellsOf(records: InvocationRecord[]): Cell[] {
  const seen = new Map<string, Cell>();
  const names = new Set(records.map((r) => r.function));
  for (const r of records) {
    if (typeof r.runtime !== 'string') continue;
    const c: Cell = { function: r.function, runtime: r.runtime, mode: r.mode, input: r.input };
    // A pre-initialised twin (preinit: 'both') beside its function.
    const of = r.function.slice(0, -TWIN_SUFFIX.length);
    if (r.preinitialized && r.function.endsWith(TWIN_SUFFIX) && names.has(of)) c.variantOf = of;
    if (!seen.has(cellKey(c))) seen.set(cellKey(c), c);
  }
  return [...seen.values()];
}
