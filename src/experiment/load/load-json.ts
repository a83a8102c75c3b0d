/**
 * What `nebula load --json` and `nebula report DIR --json` print for a load run, in one shape:
 * the files, each step's row and each series' knee row by name (as steps.csv and the tables
 * hold them), and the whole result.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KEPT_FILE } from '../replay/run-replay.js';
import { RUN_FILES } from '../run-folder.js';
import { kneeRecords } from './knee-row.js';
import type { LoadResult } from './run-load.js';
import { stepRecord } from './step-row.js';

/**
 * The records a load or replay folder holds: run.json, records.jsonl, a replay's kept.jsonl, and
 * summary.json once the run finished.
 */
export function loadRunFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {
    [RUN_FILES.run]: join(dir, RUN_FILES.run),
    [RUN_FILES.records]: join(dir, RUN_FILES.records),
  };
  if (existsSync(join(dir, KEPT_FILE))) files[KEPT_FILE] = join(dir, KEPT_FILE);
  if (existsSync(join(dir, RUN_FILES.summary))) files[RUN_FILES.summary] = join(dir, RUN_FILES.summary);
  return files;
}

/** The JSON of a load run; `files` are the paths of the folder's files, by what they hold. */
export function loadJson(result: LoadResult, files: Record<string, string>) {
  return { files, steps: result.results.map(stepRecord), knees: kneeRecords(result), result };
}
