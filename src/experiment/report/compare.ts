/** `nebula compare` as Markdown and as a self-contained HTML page, and its table rows. */
import type { CompareRow, RunComparison } from '../analysis/compare.js';
import { fmtInput, fmtMs, fmtP, fmtRatio, fmtWh } from './format.js';
import { mdText } from './escape.js';
import { esc, htmlTable, mdTable, runtimeLabel } from './kit.js';

const HEAD = ['function', 'input', 'runtime', 'mode', 'metric', 'A', 'B', 'B / A [95% interval]', 'p (Holm)', ''];

const VERDICTS: Record<CompareRow['verdict'], string> = {
  higher: 'B higher',
  lower: 'B lower',
  same: 'no clear difference',
  withheld: 'no verdict (see below)',
};

/** Why verdicts were withheld, one line per distinct reason. */
export function withheldReasons(c: RunComparison): string[] {
  return [...new Set(c.rows.filter((r) => r.withheld).map((r) => r.withheld!))].map(
    (w) => `No verdict for ${c.rows.filter((r) => r.withheld === w).length} row(s): ${w}.`,
  );
}

/** The comparison's rows as text cells, in the order of {@link HEAD}. */
export function compareCells(c: RunComparison): string[][] {
  return c.rows.map((r: CompareRow) => {
    const fmt = r.metric === 'energy' ? fmtWh : fmtMs;
    const side = (v: number, n: number, src?: string) => `${fmt(v)} (${src ?? `n ${n}`})`;
    return [
      r.function,
      fmtInput(r.input),
      runtimeLabel(r.runtime),
      r.mode,
      r.metric === 'energy' ? 'energy/inv.' : r.metric,
      side(r.a, r.nA, r.sources?.a),
      side(r.b, r.nB, r.sources?.b),
      `${fmtRatio(r.ratio)} [${fmtRatio(r.ci95[0])}, ${fmtRatio(r.ci95[1])}]`,
      Number.isFinite(r.pAdjusted) ? `${fmtP(r.pAdjusted)} (raw ${fmtP(r.p)})` : '– (no test: batch)',
      VERDICTS[r.verdict],
    ];
  });
}

/** The header columns of {@link compareCells}. */
export const COMPARE_HEAD = HEAD;

const EXPLAIN =
  "Per cell in both runs: medians per invocation (energy: each cell's energy figure), the ratio B / A with a 95% interval (percentile bootstrap of the medians; from the two intervals where a side is a batch), " +
  'and a two-sided Mann-Whitney U test of whether B\'s values tend to differ from A\'s, its p value corrected with Holm\'s method over every test listed. "B higher"/"B lower": corrected p < 0.05.';

const explain = (c: RunComparison) => `${EXPLAIN} ${c.covers}`;

function lists(c: RunComparison): string[] {
  const out: string[] = [];
  if (c.onlyA.length) out.push(`Only in A: ${c.onlyA.join('; ')}.`);
  if (c.onlyB.length) out.push(`Only in B: ${c.onlyB.join('; ')}.`);
  return out;
}

export function compareMarkdown(c: RunComparison): string {
  return [
    '# nebula-faas: run B against run A',
    '',
    `- A: ${mdText(c.a.dir)} (${mdText(c.a.startedAt)}, ${c.a.records} records${c.a.interrupted ? ', interrupted' : ''})`,
    `- B: ${mdText(c.b.dir)} (${mdText(c.b.startedAt)}, ${c.b.records} records${c.b.interrupted ? ', interrupted' : ''})`,
    '',
    ...[...withheldReasons(c), ...c.notes, ...lists(c)].map((n) => `> ${mdText(n, true)}\n`),
    explain(c),
    '',
    mdTable(HEAD, compareCells(c)),
    '',
  ].join('\n');
}

export function compareHtml(c: RunComparison): string {
  const notes = [...withheldReasons(c), ...c.notes, ...lists(c)].map((n) => `<p class="warn">${esc(n)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nebula-faas: run B against run A</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#1d1d1f}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}th{background:#f3f3f7}
.num{text-align:right;font-variant-numeric:tabular-nums}.hint{color:#555;font-size:13px}.warn{background:#fff3cd;border:2px solid #e0b400;border-radius:8px;padding:6px 10px;font-weight:600}</style></head><body>
<h1>Run B against run A</h1>
<p>A: ${esc(c.a.dir)} (${esc(c.a.startedAt)}, ${c.a.records} records${c.a.interrupted ? ', interrupted' : ''})<br>B: ${esc(c.b.dir)} (${esc(c.b.startedAt)}, ${c.b.records} records${c.b.interrupted ? ', interrupted' : ''})</p>
${notes}
<p class="hint">${esc(explain(c))}</p>
${htmlTable(HEAD, compareCells(c), 5)}
</body></html>
`;
}
