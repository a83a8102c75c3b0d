/** What `nebula replay` prints when it ends: the policies side by side, per runtime, and the files written. */
import { policyCells } from '../experiment/load/policy-row.js';
import type { ReplayResult } from '../experiment/replay/run-replay.js';
import { textTable } from './table.js';

/** How output names the i-th trace function (0-based): f1, f2, ... */
export const traceLabel = (i: number) => `f${i + 1}`;

/** The summary as lines of text; `files` are the paths written. */
export function replaySummary(r: ReplayResult, files: Record<string, string>): string {
  const out: string[] = [];
  const spanMin = r.trace.spanMs / 60_000;
  out.push(
    `${r.trace.arrivals} invocations of ${r.trace.functions.length} trace functions over ${spanMin.toFixed(1)} min of trace, at ${r.speed}x${r.interrupted ? ' (INTERRUPTED: partial results)' : ''}`,
  );
  out.push(
    textTable(
      [
        'runtime',
        'policy',
        'invocations',
        'cold starts',
        'p50',
        'p99',
        'max',
        'kept (peak)',
        'kept sandbox-h',
        'keep-warm',
        'invocations energy',
        'total',
      ],
      r.results.map(policyCells),
      'llrrrrrrrrrr',
    ),
  );
  out.push('', 'Cold starts per trace function:');
  out.push(
    textTable(
      ['function', 'id', 'runs', 'invocations', ...r.results.map((p) => `${p.policy} (${p.runtime})`)],
      r.trace.functions.map((f, i) => [
        traceLabel(i),
        f.length > 20 ? `${f.slice(0, 8)}…${f.slice(-8)}` : f,
        r.mapping[f]?.function ?? '–',
        String(r.results[0]?.perFunction[f]?.invocations ?? 0),
        ...r.results.map((p) => String(p.perFunction[f]?.coldStarts ?? 0)),
      ]),
      'lllr' + 'r'.repeat(r.results.length),
    ),
  );
  out.push(
    '',
    "Keep-warm energy: the power per kept sandbox (the keep-warm step) x the kept sandbox time, over the trace time; invocation energy: the sum of the invocations' shares of the power above idle.",
  );
  if (r.notes.length) out.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`));
  out.push('', 'Files:', ...Object.entries(files).map(([what, path]) => `  ${what.padEnd(14)} ${path}`));
  return out.join('\n');
}
