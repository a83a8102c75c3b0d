/** Writing and re-writing the reports of an experiment folder. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { loadRun, RUN_FILES } from '../run-folder.js';
import type { ExperimentResult } from '../analysis/summary.js';

/** Writes report.md and report.html into `dir`; returns their paths. */
export function writeReports(dir: string, result: ExperimentResult): { markdown: string; html: string } {
  const markdown = join(dir, RUN_FILES.markdown);
  const html = join(dir, RUN_FILES.html);
  writeFileSync(markdown, renderMarkdown(result));
  writeFileSync(html, renderHtml(result));
  return { markdown, html };
}

/**
 * Re-renders the reports of `dir` from its recorded data: the records, with summary.json (a
 * finished run), run.json (an interrupted one) or nothing else (see `loadRun`).
 * @throws UsageError `INVALID_CONFIG` when the folder holds no experiment.
 */
export function renderReports(dir: string): {
  markdown: string;
  html: string;
  records: number;
  result: ExperimentResult;
} {
  const { result, records } = loadRun(dir);
  return { ...writeReports(dir, result), records: records.length, result };
}
