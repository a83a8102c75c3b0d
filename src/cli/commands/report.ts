/** `nebula report <dir>`: re-render the reports of a recorded experiment, finished or not. */
import { recordsToCsv } from '../../experiment/report/csv.js';
import { renderReports } from '../../experiment/report/render.js';
import { loadRun } from '../../experiment/run-folder.js';
import { readLoadOrReplay } from '../../experiment/load/folder.js';
import { loadCsv, writeLoadReports } from '../../experiment/load/report.js';
import { loadJson, loadRunFiles } from '../../experiment/load/load-json.js';
import { termText } from '../../experiment/report/escape.js';
import { CliError, parse, type Command } from '../args.js';
import { checkOutputFiles, writeOutputFile, type OutputFile } from '../output-file.js';

const usage = `Usage: nebula report <dir> [--export-csv FILE [--force]] [--json]

Re-renders report.md and report.html in <dir> from its records.jsonl, with summary.json (a finished
run) or run.json (a run that was stopped or killed midway). A line cut off by a crash is skipped.
A folder of nebula load or nebula replay gets its own reports and CSV (steps.csv, policies.csv).
  --export-csv FILE   also write every record of the run as one CSV row (a new file; never one of the run's own);
                      of a load or replay folder, its steps.csv or policies.csv
  --force             let --export-csv replace an existing file
  --json              print the summary as JSON on stdout`;

const options = { 'export-csv': { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } } as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'report', options);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError('nebula report takes one folder; see --help.');
  const dir = positionals[0]!;
  const force = values.force === true;
  const csv: OutputFile | undefined =
    values['export-csv'] !== undefined ? { flag: '--export-csv', path: values['export-csv'] } : undefined;
  if (csv) checkOutputFiles([csv], { force, runDirs: [dir] });
  const other = readLoadOrReplay(dir);
  if (other) {
    const files = writeLoadReports(dir, other);
    if (csv) {
      writeOutputFile(csv, loadCsv(other), force);
      files.csv = csv.path;
    }
    // A load or replay folder prints what `nebula load --json` or `nebula replay --json` printed.
    if (values.json)
      console.log(
        JSON.stringify(
          other.format === 'nebula-load/1'
            ? loadJson(other, { ...loadRunFiles(dir), ...files })
            : { files: { ...loadRunFiles(dir), ...files }, result: other },
          null,
          2,
        ),
      );
    else {
      console.log(
        `${other.format === 'nebula-load/1' ? 'A load run' : 'A replay'}${other.interrupted ? ' (interrupted: partial results)' : ''}.`,
      );
      for (const n of other.notes) console.log(termText(`note: ${n}`, true));
      for (const [what, path] of Object.entries(files)) console.log(termText(`${what.padEnd(11)}  ${path}`));
    }
    return 0;
  }
  const r = renderReports(dir);
  const files: Record<string, string> = { 'report.md': r.markdown, 'report.html': r.html };
  if (csv) {
    const { result, records } = loadRun(dir);
    writeOutputFile(
      csv,
      recordsToCsv(records, new Set(result.outputCheck.mismatches.flatMap((m) => m.recordIds))),
      force,
    );
    files.csv = csv.path;
  }
  if (values.json) console.log(JSON.stringify({ files, records: r.records, result: r.result }, null, 2));
  else {
    console.log(`${r.records} records${r.result.interrupted ? ' (an interrupted run: partial results)' : ''}.`);
    for (const n of r.result.notes) console.log(termText(`note: ${n}`, true));
    for (const [what, path] of Object.entries(files)) console.log(termText(`${what.padEnd(11)}  ${path}`));
  }
  return 0;
}

export const command: Command = {
  name: 'report',
  summary: 're-render the reports of a recorded experiment (also one that was stopped)',
  usage,
  options,
  positionals: ['folder'],
  run,
};
