/** `nebula compare <dirA> <dirB>`: two recorded runs side by side, with ratios, intervals and a significance test. */
import {
  COMPARE_HEAD,
  compareCells,
  compareHtml,
  compareMarkdown,
  withheldReasons,
} from '../../experiment/report/compare.js';
import { compareRuns } from '../../experiment/analysis/compare.js';
import { termText } from '../../experiment/report/escape.js';
import { CliError, parse, parseWhole, type Command } from '../args.js';
import { checkOutputFiles, writeOutputFile, type OutputFile } from '../output-file.js';
import { textTable } from '../table.js';

const usage = `Usage: nebula compare <dirA> <dirB> [--markdown FILE] [--html FILE] [--force] [--json] [--seed N]

Compares run B against run A, cell by cell (function, input, runtime, mode present in both):
medians of both, the ratio B / A with a 95% interval, and a Mann-Whitney U test (p corrected
with Holm's method over all the tests). Reads each folder as nebula report does. The intervals
cover the variation within each run, not between runs: no verdict is given where the runs differ
in machine, load, meter or idle baseline, nor for energy from a batch.
  --markdown FILE   also write the comparison as Markdown
  --html FILE       also write it as a self-contained HTML page
                    (each a new file, never one of a run's own; checked before anything is read)
  --force           let --markdown and --html replace existing files
  --json            print it as JSON on stdout
  --seed N          seed of the bootstrap (default 1)`;

/** A line of the comparison: names, inputs, folders and notes come from the runs' files. */
const say = (text: string) => console.log(termText(text, true));

const options = {
  markdown: { type: 'string' },
  html: { type: 'string' },
  force: { type: 'boolean' },
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
  const force = values.force === true;
  const markdown: OutputFile | undefined =
    values.markdown !== undefined ? { flag: '--markdown', path: values.markdown } : undefined;
  const html: OutputFile | undefined = values.html !== undefined ? { flag: '--html', path: values.html } : undefined;
  checkOutputFiles(
    [markdown, html].filter((o) => o !== undefined),
    { force, runDirs: positionals },
  );
  const c = compareRuns(
    positionals[0]!,
    positionals[1]!,
    values.seed !== undefined ? parseWhole(values.seed, '--seed', 0) : 1,
  );
  if (markdown) writeOutputFile(markdown, compareMarkdown(c), force);
  if (html) writeOutputFile(html, compareHtml(c), force);
  if (values.json) {
    console.log(JSON.stringify(c, null, 2));
    return 0;
  }
  say(`A: ${c.a.dir} (${c.a.records} records)\nB: ${c.b.dir} (${c.b.records} records)\n`);
  if (!c.rows.length) say('No cell is in both runs.');
  else say(textTable(COMPARE_HEAD, compareCells(c), 'lllllrrrrl'));
  for (const w of withheldReasons(c)) say(w);
  for (const n of c.notes) say(`note: ${n}`);
  if (c.onlyA.length) say(`only in A: ${c.onlyA.join('; ')}`);
  if (c.onlyB.length) say(`only in B: ${c.onlyB.join('; ')}`);
  say(
    `\nB / A: ratio of medians per invocation with a 95% bootstrap interval; p: two-sided Mann-Whitney U, Holm-corrected.\n${c.covers}`,
  );
  for (const [flag, path] of [
    ['markdown', values.markdown],
    ['html', values.html],
  ] as const)
    if (path) say(`${flag}: ${path}`);
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
