/** An inline SVG line chart for the reports: one line per series over a shared x axis, y on a log scale. */
import { esc } from './kit.js';

/** One line: its points (x ascending) and colour. */
export interface LineSeries {
  label: string;
  color: string;
  points: Array<{ x: number; y: number }>;
}

const WIDTH = 900;
const HEIGHT = 320;
const PAD = { left: 70, right: 180, top: 30, bottom: 40 };

/** A chart of `series`; x linear, y log (values at or below 0 are left out), ticks by `fmtX`/`fmtY`. */
export function lineChart(
  title: string,
  series: LineSeries[],
  fmtX: (v: number) => string,
  fmtY: (v: number) => string,
  yLog = true,
): string {
  const pts = series
    .flatMap((s) => s.points)
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!yLog || p.y > 0));
  if (!pts.length) return '';
  const xs = pts.map((p) => p.x);
  const [x0, x1] = [Math.min(0, ...xs), Math.max(...xs) || 1];
  const ys = pts.map((p) => p.y);
  const [y0, y1] = yLog
    ? [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)) + 1e-9)]
    : [Math.min(0, ...ys), Math.max(...ys) || 1];
  const ySpan = Math.max(yLog ? 1 : 1e-12, y1 - y0);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + ((v - x0) / (x1 - x0)) * plotW;
  const y = (v: number) => PAD.top + plotH - (((yLog ? Math.log10(v) : v) - y0) / ySpan) * plotH;
  const parts: string[] = [`<text x="0" y="16" class="t">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = x0 + ((x1 - x0) * i) / 4;
    parts.push(
      `<line x1="${x(v)}" y1="${PAD.top}" x2="${x(v)}" y2="${PAD.top + plotH}" class="grid"/><text x="${x(v)}" y="${HEIGHT - 20}" class="ax" text-anchor="middle">${esc(fmtX(v))}</text>`,
    );
  }
  const yTicks = yLog
    ? Array.from({ length: y1 - y0 + 1 }, (_, i) => 10 ** (y0 + i))
    : [0, 1, 2, 3, 4].map((i) => y0 + (ySpan * i) / 4);
  for (const v of yTicks)
    parts.push(
      `<line x1="${PAD.left}" y1="${y(v)}" x2="${PAD.left + plotW}" y2="${y(v)}" class="grid"/><text x="${PAD.left - 6}" y="${y(v) + 4}" class="ax" text-anchor="end">${esc(fmtY(v))}</text>`,
    );
  series.forEach((s, i) => {
    const ok = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!yLog || p.y > 0));
    if (ok.length) {
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${ok.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const p of ok)
        parts.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const ly = PAD.top + 14 + i * 18;
    parts.push(
      `<rect x="${WIDTH - PAD.right + 12}" y="${ly - 10}" width="12" height="12" fill="${s.color}"/><text x="${WIDTH - PAD.right + 30}" y="${ly}" class="lb">${esc(s.label)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" style="max-width:${WIDTH}px" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}
