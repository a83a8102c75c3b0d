/** Writing and re-writing the reports of an experiment folder. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { InvocationRecord } from '../types.js';
import { summarizeRecords, type ExperimentResult } from './summary.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-markdown.js';

/** Writes report.md and report.html beside summary.json; returns their paths. */
export function writeReports(dir: string, result: ExperimentResult): { markdown: string; html: string } {
  const markdown = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  writeFileSync(markdown, renderMarkdown(result));
  writeFileSync(html, renderHtml(result));
  return { markdown, html };
}

/**
 * Re-renders the reports of `dir` from its recorded data: summary.json for the configuration,
 * records.jsonl for the numbers (a truncated last line, as a crash may leave, is skipped).
 * @throws NebulaError `INVALID_CONFIG` when the folder holds no experiment.
 */
export function renderReports(dir: string): { markdown: string; html: string; records: number } {
  let result: ExperimentResult;
  try {
    result = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ExperimentResult;
  } catch (e) {
    throw new UsageError('INVALID_CONFIG', `${dir} holds no readable summary.json of an experiment: ${(e as Error).message}`, { cause: e });
  }
  let records: InvocationRecord[] = [];
  try {
    records = readFileSync(join(dir, 'records.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as InvocationRecord];
        } catch {
          return [];
        }
      });
  } catch {
    // No records: render the summary as it is.
  }
  if (records.length) {
    const batches = new Map(result.cells.map((c) => [`${c.function}|${c.runtime}|${c.mode}|${JSON.stringify(c.input)}`, c.batch]));
    const again = summarizeRecords(records, result.cells, { seed: result.config.seed, baseline: result.config.baseline ?? result.config.runtimes[0] });
    result.cells = again.cells.map((c) => {
      const batch = batches.get(`${c.function}|${c.runtime}|${c.mode}|${JSON.stringify(c.input)}`);
      return batch ? { ...c, batch } : c;
    });
    result.comparisons = again.comparisons;
  }
  return { ...writeReports(dir, result), records: records.length };
}
