/** `nebula compare <dirA> <dirB>`: two recorded runs side by side, with ratios, intervals and a significance test. */
import { writeFileSync } from 'node:fs';
import {
  COMPARE_HEAD,
  compareCells,
  compareHtml,
  compareMarkdown,
  withheldReasons,
} from '../../experiment/report/compare.js';
import { compareRuns } from '../../experiment/analysis/compare.js';
import { CliError, parse, parseWhole, type Command } from '../args.js';
import { textTable } from '../table.js';

const usage = `Usage: nebula compare <dirA> <dirB> [--markdown FILE] [--html FILE] [--json] [--seed N]

Compares run B against run A, cell by cell (function, input, runtime, mode present in both):
medians of both, the ratio B / A with a 95% interval, and a Mann-Whitney U test (p corrected
with Holm's method over all the tests). Reads each folder as nebula report does. The intervals
cover the variation within each run, not between runs: no verdict is given where the runs differ
in machine, load, meter or idle baseline, nor for energy from a batch.
  --markdown FILE   also write the comparison as Markdown
  --html FILE       also write it as a self-contained HTML page
  --json            print it as JSON on stdout
  --seed N          seed of the bootstrap (default 1)`;

const options = {
  markdown: { type: 'string' },
  html: { type: 'string' },
  json: { type: 'boolean' },
  seed: { type: 'string' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'compare', options);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 2) throw new CliError('nebula compare takes two folders, A then B; see --help.');
  const c = compareRuns(
    positionals[0]!,
    positionals[1]!,
    values.seed !== undefined ? parseWhole(values.seed, '--seed', 0) : 1,
  );
  if (values.markdown) writeFileSync(values.markdown, compareMarkdown(c));
  if (values.html) writeFileSync(values.html, compareHtml(c));
  if (values.json) {
    console.log(JSON.stringify(c, null, 2));
    return 0;
  }
  console.log(`A: ${c.a.dir} (${c.a.records} records)\nB: ${c.b.dir} (${c.b.records} records)\n`);
  if (!c.rows.length) console.log('No cell is in both runs.');
  else console.log(textTable(COMPARE_HEAD, compareCells(c), 'lllllrrrrl'));
  for (const w of withheldReasons(c)) console.log(w);
  for (const n of c.notes) console.log(`note: ${n}`);
  if (c.onlyA.length) console.log(`only in A: ${c.onlyA.join('; ')}`);
  if (c.onlyB.length) console.log(`only in B: ${c.onlyB.join('; ')}`);
  console.log(
    `\nB / A: ratio of medians per invocation with a 95% bootstrap interval; p: two-sided Mann-Whitney U, Holm-corrected.\n${c.covers}`,
  );
  for (const [flag, path] of [
    ['markdown', values.markdown],
    ['html', values.html],
  ] as const)
    if (path) console.log(`${flag}: ${path}`);
  return 0;
}

export const command: Command = {
  name: 'compare',
  summary: 'compare two recorded runs: ratios with intervals and a significance test',
  usage,
  options,
  positionals: ['folder', 'folder'],
  run,
};
