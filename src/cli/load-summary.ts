/**
 * What `nebula load` prints when it ends: the row of each step (step-row.ts, the same cells the
 * reports show); the knee row of each series (knee-row.ts, likewise); the notes and the files written.
 */
import type { LoadResult } from '../experiment/load/run-load.js';
import { KNEE_HEAD, kneeCaption, kneeCells } from '../experiment/load/knee-row.js';
import { energyCaption, lagCaption, STEP_ALIGN, STEP_HEAD, stepCells } from '../experiment/load/step-row.js';
import { textTable } from './table.js';

/** The summary as lines of text; `files` are the paths written, by what they hold. */
export function loadSummary(r: LoadResult, files: Record<string, string>): string {
  const out: string[] = [];
  out.push(
    `Latency from each invocation's intended send time (queue time included), [95% interval]${r.interrupted ? ' (INTERRUPTED: partial results)' : ''}`,
  );
  out.push(textTable([...STEP_HEAD], r.results.map(stepCells), STEP_ALIGN));
  out.push('');
  out.push(kneeCaption(r));
  out.push(textTable([...KNEE_HEAD], kneeCells(r)));
  out.push('', energyCaption(r), lagCaption(r));
  if (r.notes.length) out.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`));
  out.push('', 'Files:', ...Object.entries(files).map(([what, path]) => `  ${what.padEnd(14)} ${path}`));
  return out.join('\n');
}
