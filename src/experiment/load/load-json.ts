/**
 * What `nebula load --json` and `nebula report DIR --json` print for a load run, in one shape:
 * the files, each step's row and each series' knee row by name (as steps.csv and the tables
 * hold them), and the whole result.
 */
import { kneeRecords } from './knee-row.js';
import type { LoadResult } from './run-load.js';
import { stepRecord } from './step-row.js';

/** The JSON of a load run; `files` are the paths of the folder's files, by what they hold. */
export function loadJson(result: LoadResult, files: Record<string, string>) {
  return { files, steps: result.results.map(stepRecord), knees: kneeRecords(result), result };
}
