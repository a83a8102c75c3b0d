/** `nebula report <dir>`: re-render the reports of a recorded experiment. */
import { renderReports } from '../../experiment/render.js';
import { CliError, parse } from '../args.js';

export const usage = `Usage: nebula report <dir>

Re-renders report.md and report.html in <dir> from its summary.json and records.jsonl.`;

export async function report(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, usage);
  if (values.help) return void console.log(usage), 0;
  if (positionals.length !== 1) throw new CliError(`nebula report takes one folder. (see --help).`);
  const r = renderReports(positionals[0]!);
  console.log(`${r.records} records; reports: ${r.html}\n         ${r.markdown}`);
  return 0;
}
