/** Inline SVG charts for the HTML report: no script, no external asset. */
import { fmtMs } from './format.js';
import type { Summary } from '../stats.js';

export interface ChartRow {
  label: string;
  group: string;
  color: string;
  s: Summary;
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A log-scale x axis: the decade grid lines and labels, and the value-to-x function. */
function logAxis(lo: number, hi: number, left: number, plot: number, top: number, height: number, format: (v: number) => string) {
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * plot;
  const parts: string[] = [];
  for (let d = lo; d <= hi; d++) {
    const xv = x(10 ** d);
    parts.push(`<line x1="${xv}" y1="${top - 4}" x2="${xv}" y2="${height - 34}" class="grid"/>`);
    parts.push(`<text x="${xv}" y="${height - 20}" class="ax" text-anchor="middle">${esc(format(10 ** d))}</text>`);
  }
  return { x, grid: parts.join('') };
}

const LEFT = 220;
const WIDTH = 760;
const ROW_H = 22;
const TOP = 30;

/** The frame every chart shares: title, log axis over `values`, and the row geometry. */
function frame(title: string, rows: number, values: number[], loPad: number, rightPad: number, format: (v: number) => string) {
  const lo = Math.floor(Math.log10(Math.min(...values))) - loPad;
  const hi = Math.ceil(Math.log10(Math.max(...values)) + 1e-9);
  const height = TOP + rows * ROW_H + 40;
  const { x, grid } = logAxis(lo, hi, LEFT, WIDTH - LEFT - rightPad, TOP, height, format);
  const parts: string[] = [`<text x="0" y="16" class="t">${esc(title)}</text>`, grid];
  const rowY = (i: number) => TOP + i * ROW_H + ROW_H / 2;
  const svg = () =>
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
  return { x, parts, rowY, svg };
}

/** Horizontal box plots on a log axis: box q1-q3, whiskers min to p95, a tick at the median. */
export function logBoxChart(title: string, rows: ChartRow[], format: (v: number) => string = fmtMs): string {
  const values = rows.flatMap((r) => [r.s.min, r.s.p95, r.s.max]).filter((v) => v > 0 && Number.isFinite(v));
  if (!values.length) return '';
  const { x, parts, rowY, svg } = frame(title, rows.length, values, 0, 40, format);
  let lastGroup = '';
  rows.forEach((r, i) => {
    const y = rowY(i);
    if (r.group !== lastGroup && i > 0) parts.push(`<line x1="0" y1="${y - ROW_H / 2}" x2="${WIDTH}" y2="${y - ROW_H / 2}" class="sep"/>`);
    lastGroup = r.group;
    parts.push(`<text x="${LEFT - 8}" y="${y + 4}" class="lb" text-anchor="end">${esc(r.label)}</text>`);
    const s = r.s;
    parts.push(`<line x1="${x(s.min)}" y1="${y}" x2="${x(s.p95)}" y2="${y}" stroke="${r.color}" stroke-width="1.5"/>`);
    parts.push(
      `<rect x="${x(s.q1)}" y="${y - 7}" width="${Math.max(1.5, x(s.q3) - x(s.q1))}" height="14" fill="${r.color}" fill-opacity="0.35" stroke="${r.color}"/>`,
    );
    parts.push(`<line x1="${x(s.median)}" y1="${y - 9}" x2="${x(s.median)}" y2="${y + 9}" stroke="${r.color}" stroke-width="3"/>`);
    parts.push(`<title>${esc(`${r.label}: median ${format(s.median)}, q1 ${format(s.q1)}, q3 ${format(s.q3)}, min ${format(s.min)}, p95 ${format(s.p95)}, n ${s.n}`)}</title>`);
  });
  return svg();
}

/** Horizontal bars on a log axis (one value per row), e.g. energy per invocation. */
export function logBarChart(title: string, rows: Array<{ label: string; group: string; color: string; value: number }>, format: (v: number) => string): string {
  const vals = rows.map((r) => r.value).filter((v) => v > 0 && Number.isFinite(v));
  if (!vals.length) return '';
  const { x, parts, rowY, svg } = frame(title, rows.length, vals, 1, 90, format);
  rows.forEach((r, i) => {
    const y = rowY(i);
    parts.push(`<text x="${LEFT - 8}" y="${y + 4}" class="lb" text-anchor="end">${esc(r.label)}</text>`);
    if (r.value > 0 && Number.isFinite(r.value)) {
      parts.push(`<rect x="${LEFT}" y="${y - 7}" width="${Math.max(1, x(r.value) - LEFT)}" height="14" fill="${r.color}" fill-opacity="0.7"/>`);
      parts.push(`<text x="${x(r.value) + 6}" y="${y + 4}" class="ax">${esc(format(r.value))}</text>`);
    } else parts.push(`<text x="${LEFT + 4}" y="${y + 4}" class="ax">–</text>`);
  });
  return svg();
}
