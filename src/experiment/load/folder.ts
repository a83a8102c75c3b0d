/**
 * A load run's folder read back: summary.json when the run finished, else its steps summarised
 * again from run.json and records.jsonl (a run stopped midway is reportable from what it wrote).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { readRecords, RUN_FILES } from '../run-folder.js';
import { KEPT_FILE, type KeptSample, type ReplayResult, type ReplayRunFile } from '../replay/run-replay.js';
import { summarizePolicy, type ReplayRecord } from '../replay/summary.js';
import type { LoadResult, LoadRunFile } from './run-load.js';
import { generatorOf, kneeOf, stopReason, summarizeStep, type LoadRecord } from './summary.js';

function readJson(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError('INVALID_CONFIG', `${path} is not readable JSON: ${(e as Error).message}`, { cause: e });
  }
}

const isLoad = (v: unknown): boolean => (v as { format?: unknown } | undefined)?.format === 'nebula-load/1';
const isReplay = (v: unknown): boolean => (v as { format?: unknown } | undefined)?.format === 'nebula-replay/1';

/**
 * A load or replay folder read back (summary.json, else run.json and the records), or undefined
 * when `dir` holds neither (an experiment's folder, say).
 */
export function readLoadOrReplay(dir: string): LoadResult | ReplayResult | undefined {
  const summary = readJson(join(dir, RUN_FILES.summary));
  const run = summary === undefined ? readJson(join(dir, RUN_FILES.run)) : undefined;
  if (isLoad(summary) || isLoad(run)) return readLoadRun(dir);
  if (isReplay(summary)) return summary as ReplayResult;
  if (!isReplay(run)) return undefined;
  const file = run as ReplayRunFile;
  const { records } = readRecords(join(dir, RUN_FILES.records));
  const byRun = new Map<number, ReplayRecord[]>();
  for (const r of records as ReplayRecord[])
    if (r.replay && typeof r.replay.run === 'number')
      (byRun.get(r.replay.run) ?? byRun.set(r.replay.run, []).get(r.replay.run)!).push(r);
  const last = Math.max(
    Date.parse(file.startedAt),
    ...records.map((r) => Date.parse(r.startedAt)).filter(Number.isFinite),
  );
  const kept = readKept(join(dir, KEPT_FILE));
  return {
    ...file,
    notes: [
      ...file.notes,
      `This replay did not finish (no summary.json): its policies are summarised from the records written before it stopped${kept ? `, and the sandboxes kept over time from ${KEPT_FILE}, up to the stop` : `; the sandboxes kept over time were not recorded (no ${KEPT_FILE})`}.`,
    ],
    finishedAt: new Date(last).toISOString(),
    interrupted: true,
    results: [...byRun.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([index, recs]) =>
        summarizePolicy(index, recs[0]!.replay.policy, recs[0]!.runtime, recs, kept?.get(index) ?? [], {
          speed: file.speed,
          spanMs: file.trace.spanMs,
          wattsPerSandbox: file.keepWarmWattsPerSandbox[recs[0]!.runtime],
        }),
      ),
  };
}

/**
 * The counts of kept sandboxes a replay appended as it went, by run; undefined without the file.
 * A line that does not parse (cut off by a kill) is skipped.
 */
function readKept(path: string): Map<number, Array<{ atMs: number; kept: number }>> | undefined {
  if (!existsSync(path)) return undefined;
  const byRun = new Map<number, Array<{ atMs: number; kept: number }>>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    let s: Partial<KeptSample>;
    try {
      s = JSON.parse(line) as Partial<KeptSample>;
    } catch {
      continue;
    }
    if (typeof s?.run !== 'number' || typeof s.atMs !== 'number' || typeof s.kept !== 'number') continue;
    (byRun.get(s.run) ?? byRun.set(s.run, []).get(s.run)!).push({ atMs: s.atMs, kept: s.kept });
  }
  return byRun;
}

/**
 * Reads a load run's folder.
 * @throws UsageError `INVALID_CONFIG` when the folder holds no load run.
 */
export function readLoadRun(dir: string): LoadResult {
  const summary = readJson(join(dir, RUN_FILES.summary));
  if (isLoad(summary)) return summary as LoadResult;
  const run = readJson(join(dir, RUN_FILES.run));
  if (!isLoad(run)) throw new UsageError('INVALID_CONFIG', `${dir} holds no load run (no run.json of one).`);
  const file = run as LoadRunFile;
  const { records, skipped } = readRecords(join(dir, RUN_FILES.records));
  const byStep = new Map<number, LoadRecord[]>();
  for (const r of records as LoadRecord[])
    if (r.load && typeof r.load.step === 'number')
      (byStep.get(r.load.step) ?? byStep.set(r.load.step, []).get(r.load.step)!).push(r);
  const results = [...byStep.entries()]
    .sort((a, b) => a[0] - b[0])
    .flatMap(([index, recs]) => {
      const step = file.steps[index];
      if (!step) return [];
      const startAt = Math.min(...recs.map((r) => r.load.intendedAt));
      const givenUp = recs.filter((r) => r.load.givenUp).length;
      const gen = {
        scheduled: recs.length,
        sent: recs.length - givenUp,
        givenUp,
        unsent: 0,
        peakInFlight: Number.NaN,
        startAt,
      };
      return [summarizeStep(index, step, recs, gen)];
    });
  const notes = [
    ...file.notes,
    "This run did not finish (no summary.json): its steps are summarised from the records written before it stopped (scheduled counts are those recorded; the last step may be partial; the power at each load, from the meter's ledger, is not in the records).",
  ];
  if (skipped) notes.push(`${skipped} line(s) of records.jsonl could not be read and were skipped.`);
  const seen = new Map<string, LoadResult['series'][number]>();
  for (const s of file.steps) {
    const key = `${s.function}\0${s.runtime}\0${s.mode}`;
    if (!seen.has(key))
      seen.set(key, { function: s.function, input: s.input, runtime: s.runtime, mode: s.mode, knee: null });
  }
  const series = [...seen.values()].filter((s) =>
    results.some((r) => r.function === s.function && r.runtime === s.runtime && r.mode === s.mode),
  );
  for (const s of series) {
    const mine = results.filter((r) => r.function === s.function && r.runtime === s.runtime && r.mode === s.mode);
    s.knee = kneeOf(mine, file.spec);
    for (const r of mine) {
      const why = stopReason(r, file.spec);
      if (why) {
        s.stopped = { ratePerS: r.ratePerS, reason: why };
        break;
      }
    }
  }
  const last = Math.max(
    ...records.map((r) => Date.parse(r.startedAt)).filter(Number.isFinite),
    Date.parse(file.startedAt),
  );
  return {
    ...file,
    notes,
    finishedAt: new Date(last).toISOString(),
    interrupted: true,
    results,
    series,
    generator: generatorOf(results),
  };
}
