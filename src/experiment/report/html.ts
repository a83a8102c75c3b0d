/** report.html: one self-contained page (inline CSS and SVG) with the report's sections. */
import type { InvocationMode } from '../../types.js';
import type { RuntimeKind } from '../../runtimes/index.js';
import { buildSections, colorOf, esc, runtimeLabel } from './kit.js';
import { REPORT_SECTIONS } from './sections.js';
import { banners } from './sections-run.js';
import { estimateWarning } from './sections-energy.js';
import type { ExperimentResult } from '../analysis/summary.js';

export const REPORT_CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1000px;padding:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 6px}
section{background:#fff;border:1px solid #e3e3e8;border-radius:10px;padding:14px 18px;margin:14px 0}
table{border-collapse:collapse;font-size:13px;width:100%;margin-top:8px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;white-space:pre-line;vertical-align:top}th{background:#f3f3f7}
.num{text-align:right;font-variant-numeric:tabular-nums}
svg{display:block;height:auto}svg .t{font-weight:600;font-size:13px}svg .lb{font-size:12px}svg .ax{font-size:11px;fill:#555}svg .val{font-size:12px}
svg .grid{stroke:#e0e0e6}svg .minor{stroke:#f0f0f4}svg .sep{stroke:#ccc;stroke-dasharray:3 3}
.hint{color:#555;font-size:13px;margin:0 0 8px}
.warn{background:#fff3cd;border:2px solid #e0b400;color:#5c4400;border-radius:8px;padding:8px 12px;font-size:15px;font-weight:600;margin:8px 0}
.error{background:#fde2e1;border:2px solid #d9534f;color:#7a1410;border-radius:8px;padding:8px 12px;font-size:15px;font-weight:600;margin:8px 0}
.key{margin-right:14px;font-size:13px;white-space:nowrap}.key i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
`;

export function renderHtml(r: ExperimentResult): string {
  const top: string[] = [];
  const warn = estimateWarning(r);
  if (warn) top.push(`<p class="warn" id="estimate-warning">${esc(warn)}</p>`);
  for (const b of banners(r)) top.push(`<p class="${b.level}">${esc(b.text)}</p>`);
  const sections = buildSections(REPORT_SECTIONS, r)
    .filter((s) => s.html)
    .map(
      (s) =>
        `<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>${s.warn ? `<p class="warn">${esc(s.warn)}</p>` : ''}${s.hint ? `<p class="hint">${esc(s.hint)}</p>` : ''}${s.html}</section>`,
    );
  const seen = [...new Set(r.cells.map((c) => `${c.runtime}|${c.mode}`))];
  const legend = seen
    .map((k) => {
      const [rt, mode] = k.split('|') as [RuntimeKind, InvocationMode];
      return `<span class="key"><i style="background:${colorOf(rt, mode)}"></i>${esc(`${runtimeLabel(rt)} ${mode}`)}</span>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>nebula-faas experiment ${esc(r.startedAt)}</title>
<style>${REPORT_CSS}</style></head><body>
<h1>nebula-faas experiment${r.interrupted ? ' (interrupted)' : ''}</h1>
<p class="hint">${esc(r.startedAt)} – ${esc(r.finishedAt)} · ${esc(String(r.machine.cpu ?? 'machine unknown'))} · ${r.cells.length} cells</p>
${top.join('\n')}
<p>${legend}</p>
${sections.join('\n')}
</body></html>
`;
}
