/** Inline SVG charts for the HTML report: no script, no external asset. */
import type { Summary } from '../../stats.js';
import { fmtMs, tickMs } from './format.js';

/** One row of a box chart. */
export interface ChartRow {
  label: string;
  group: string;
  color: string;
  s: Summary;
}

/** One row of an interval chart: a point estimate and its 95% interval. */
export interface IntervalRow {
  label: string;
  group: string;
  color: string;
  value: number;
  ci95: [number, number];
  /** False when the interval reaches zero or below: drawn as an open marker at the axis' left edge. */
  aboveZero: boolean;
  /** Text printed at the right of the row. */
  text: string;
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const WIDTH = 900;
const ROW_H = 22;
const TOP = 30;

/** A log-scale x axis over [10^lo, 10^hi]: grid lines and labels at each decade (and 2, 5 when narrow). */
function logAxis(lo: number, hi: number, left: number, plot: number, height: number, tick: (v: number) => string) {
  const span = Math.max(1, hi - lo);
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / span) * plot;
  const parts: string[] = [];
  const steps = span <= 2 ? [1, 2, 5] : [1];
  for (let d = lo; d <= hi; d++)
    for (const m of steps) {
      const v = m * 10 ** d;
      if (v > 10 ** hi * 1.0001) break;
      const xv = x(v);
      parts.push(
        `<line x1="${xv}" y1="${TOP - 4}" x2="${xv}" y2="${height - 34}" class="${m === 1 ? 'grid' : 'grid minor'}"/>`,
      );
      parts.push(`<text x="${xv}" y="${height - 20}" class="ax" text-anchor="middle">${esc(tick(v))}</text>`);
    }
  return { x, grid: parts.join('') };
}

/** The frame every chart shares: title, log axis over `values`, and the row geometry. */
function frame(title: string, labels: string[], values: number[], rightPad: number, tick: (v: number) => string) {
  // Room for the longest label (about 6.6 px a character at 12 px).
  const left = Math.min(360, Math.max(120, Math.ceil(Math.max(...labels.map((l) => l.length)) * 6.6) + 14));
  const rows = labels.length;
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values)) - 1e-9));
  const height = TOP + rows * ROW_H + 40;
  const { x, grid } = logAxis(lo, hi, left, WIDTH - left - rightPad, height, tick);
  const parts: string[] = [`<text x="0" y="16" class="t">${esc(title)}</text>`, grid];
  const rowY = (i: number) => TOP + i * ROW_H + ROW_H / 2;
  const svg = () =>
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" style="max-width:${WIDTH}px" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
  return { x, parts, rowY, svg, left };
}

function separator(parts: string[], rows: Array<{ group: string }>, i: number, y: number): void {
  if (i > 0 && rows[i]!.group !== rows[i - 1]!.group)
    parts.push(`<line x1="0" y1="${y - ROW_H / 2}" x2="${WIDTH}" y2="${y - ROW_H / 2}" class="sep"/>`);
}

/** Horizontal box plots on a log axis: box q1-q3, whiskers min to p95, a tick at the median. */
export function logBoxChart(
  title: string,
  rows: ChartRow[],
  format: (v: number) => string = fmtMs,
  tick: (v: number) => string = tickMs,
): string {
  const values = rows.flatMap((r) => [r.s.min, r.s.p95, r.s.max]).filter((v) => v > 0 && Number.isFinite(v));
  if (!values.length) return '';
  const { x, parts, rowY, svg, left } = frame(
    title,
    rows.map((r) => r.label),
    values,
    20,
    tick,
  );
  rows.forEach((r, i) => {
    const y = rowY(i);
    separator(parts, rows, i, y);
    const s = r.s;
    parts.push(
      `<g><title>${esc(`${r.label}: median ${format(s.median)}, q1 ${format(s.q1)}, q3 ${format(s.q3)}, min ${format(s.min)}, p95 ${format(s.p95)}, n ${s.n}`)}</title>`,
    );
    parts.push(`<text x="${left - 8}" y="${y + 4}" class="lb" text-anchor="end">${esc(r.label)}</text>`);
    parts.push(`<line x1="${x(s.min)}" y1="${y}" x2="${x(s.p95)}" y2="${y}" stroke="${r.color}" stroke-width="1.5"/>`);
    parts.push(
      `<rect x="${x(s.q1)}" y="${y - 7}" width="${Math.max(1.5, x(s.q3) - x(s.q1))}" height="14" fill="${r.color}" fill-opacity="0.35" stroke="${r.color}"/>`,
    );
    parts.push(
      `<line x1="${x(s.median)}" y1="${y - 9}" x2="${x(s.median)}" y2="${y + 9}" stroke="${r.color}" stroke-width="3"/></g>`,
    );
  });
  return svg();
}

/**
 * Dots with 95% interval whiskers on a log axis (the distance between two dots reads as a
 * ratio). A row whose interval reaches zero cannot sit on a log axis: it is an open marker at
 * the left edge with a dashed whisker up to its upper bound.
 */
export function logIntervalChart(title: string, rows: IntervalRow[], tick: (v: number) => string): string {
  const values = rows
    .flatMap((r) => (r.aboveZero ? [r.ci95[0], r.value, r.ci95[1]] : [r.ci95[1]]))
    .filter((v) => v > 0 && Number.isFinite(v));
  if (!values.length) return '';
  const { x, parts, rowY, svg, left } = frame(
    title,
    rows.map((r) => r.label),
    values,
    200,
    tick,
  );
  rows.forEach((r, i) => {
    const y = rowY(i);
    separator(parts, rows, i, y);
    parts.push(`<g><title>${esc(`${r.label}: ${r.text}`)}</title>`);
    parts.push(`<text x="${left - 8}" y="${y + 4}" class="lb" text-anchor="end">${esc(r.label)}</text>`);
    const [lo, hi] = r.ci95;
    if (r.aboveZero) {
      parts.push(`<line x1="${x(lo)}" y1="${y}" x2="${x(hi)}" y2="${y}" stroke="${r.color}" stroke-width="1.5"/>`);
      for (const e of [lo, hi])
        parts.push(
          `<line x1="${x(e)}" y1="${y - 5}" x2="${x(e)}" y2="${y + 5}" stroke="${r.color}" stroke-width="1.5"/>`,
        );
      parts.push(`<circle cx="${x(r.value)}" cy="${y}" r="5" fill="${r.color}"/>`);
    } else {
      if (hi > 0) {
        parts.push(
          `<line x1="${left}" y1="${y}" x2="${x(hi)}" y2="${y}" stroke="${r.color}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
        );
        parts.push(
          `<line x1="${x(hi)}" y1="${y - 5}" x2="${x(hi)}" y2="${y + 5}" stroke="${r.color}" stroke-width="1.5"/>`,
        );
      }
      parts.push(`<circle cx="${left + 5}" cy="${y}" r="4.5" fill="#fff" stroke="${r.color}" stroke-width="1.5"/>`);
    }
    parts.push(`<text x="${WIDTH - 195}" y="${y + 4}" class="val">${esc(r.text)}</text></g>`);
  });
  return svg();
}
