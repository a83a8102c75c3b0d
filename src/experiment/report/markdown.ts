/** report.md: the report's sections as Markdown, for a terminal or a pull request. */
import type { ExperimentResult } from '../analysis/summary.js';
import { mdText } from './escape.js';
import { buildSections } from './kit.js';
import { REPORT_SECTIONS } from './sections.js';
import { banners } from './sections-run.js';
import { estimateWarning } from './sections-energy.js';

export function renderMarkdown(r: ExperimentResult): string {
  const out: string[] = [];
  out.push(`# nebula-faas experiment${r.interrupted ? ' (interrupted: partial results)' : ''}`, '');
  out.push(`${r.startedAt} to ${r.finishedAt}; ${r.cells.length} cells.`, '');
  const warn = estimateWarning(r);
  if (warn) out.push(`> **${warn}**`, '');
  // Banners carry notes and outputs from outside: escaped, as every table cell is.
  for (const b of banners(r))
    out.push(`> ${b.level === 'error' ? '**' : ''}${mdText(b.text, true)}${b.level === 'error' ? '**' : ''}`, '');
  for (const s of buildSections(REPORT_SECTIONS, r)) {
    if (!s.markdown) continue;
    out.push(`## ${s.title}`, '');
    if (s.warn) out.push(`> **${s.warn}**`, '');
    if (s.hint) out.push(s.hint, '');
    out.push(s.markdown, '');
  }
  out.push(
    'startup: invoke() until the function starts; exec: function start to end; total: invoke() until the result. See docs/timing.md.',
    '',
  );
  return out.join('\n');
}
