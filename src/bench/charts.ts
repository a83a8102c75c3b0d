/** Inline SVG charts for the HTML report: no script, no external asset. */
import { fmtMs } from './format.js';
import type { Summary } from './stats.js';

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

/** Horizontal box plots on a log axis: box q1-q3, whiskers min to p95, a tick at the median. */
export function logBoxChart(title: string, rows: ChartRow[], format: (v: number) => string = fmtMs): string {
  const values = rows.flatMap((r) => [r.s.min, r.s.p95, r.s.max]).filter((v) => v > 0 && Number.isFinite(v));
  if (!values.length) return '';
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)) + 1e-9);
  const left = 220;
  const width = 760;
  const plot = width - left - 40;
  const rowH = 22;
  const top = 30;
  const height = top + rows.length * rowH + 40;
  const { x, grid } = logAxis(lo, hi, left, plot, top, height, format);
  const parts: string[] = [`<text x="0" y="16" class="t">${esc(title)}</text>`, grid];
  let lastGroup = '';
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    if (r.group !== lastGroup && i > 0) parts.push(`<line x1="0" y1="${y - rowH / 2}" x2="${width}" y2="${y - rowH / 2}" class="sep"/>`);
    lastGroup = r.group;
    parts.push(`<text x="${left - 8}" y="${y + 4}" class="lb" text-anchor="end">${esc(r.label)}</text>`);
    const s = r.s;
    parts.push(`<line x1="${x(s.min)}" y1="${y}" x2="${x(s.p95)}" y2="${y}" stroke="${r.color}" stroke-width="1.5"/>`);
    parts.push(
      `<rect x="${x(s.q1)}" y="${y - 7}" width="${Math.max(1.5, x(s.q3) - x(s.q1))}" height="14" fill="${r.color}" fill-opacity="0.35" stroke="${r.color}"/>`,
    );
    parts.push(`<line x1="${x(s.median)}" y1="${y - 9}" x2="${x(s.median)}" y2="${y + 9}" stroke="${r.color}" stroke-width="3"/>`);
    parts.push(`<title>${esc(`${r.label}: median ${format(s.median)}, q1 ${format(s.q1)}, q3 ${format(s.q3)}, min ${format(s.min)}, p95 ${format(s.p95)}, n ${s.n}`)}</title>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}

/** Horizontal bars on a log axis (one value per row), e.g. energy per invocation. */
export function logBarChart(title: string, rows: Array<{ label: string; group: string; color: string; value: number }>, format: (v: number) => string): string {
  const vals = rows.map((r) => r.value).filter((v) => v > 0 && Number.isFinite(v));
  if (!vals.length) return '';
  const lo = Math.floor(Math.log10(Math.min(...vals))) - 1;
  const hi = Math.ceil(Math.log10(Math.max(...vals)) + 1e-9);
  const left = 220;
  const width = 760;
  const plot = width - left - 90;
  const rowH = 22;
  const top = 30;
  const height = top + rows.length * rowH + 40;
  const { x, grid } = logAxis(lo, hi, left, plot, top, height, format);
  const parts: string[] = [`<text x="0" y="16" class="t">${esc(title)}</text>`, grid];
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    parts.push(`<text x="${left - 8}" y="${y + 4}" class="lb" text-anchor="end">${esc(r.label)}</text>`);
    if (r.value > 0 && Number.isFinite(r.value)) {
      parts.push(`<rect x="${left}" y="${y - 7}" width="${Math.max(1, x(r.value) - left)}" height="14" fill="${r.color}" fill-opacity="0.7"/>`);
      parts.push(`<text x="${x(r.value) + 6}" y="${y + 4}" class="ax">${esc(format(r.value))}</text>`);
    } else parts.push(`<text x="${left + 4}" y="${y + 4}" class="ax">–</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}
