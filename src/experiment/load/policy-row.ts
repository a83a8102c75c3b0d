/**
 * The row of one replay policy, built once: the terminal summary, report.md, report.html and
 * policies.csv read it. Each column has the cell the tables show and the raw figures the CSV holds
 * for it (one figure, one meaning); a column without a heading is in the CSV only. The load
 * step's row is step-row.ts.
 */
import { fmtJ, fmtMs } from '../report/format.js';
import { runtimeLabel } from '../report/kit.js';
import type { PolicySummary } from '../replay/summary.js';
import type { ReplayResult } from '../replay/run-replay.js';

type CsvValue = string | number | boolean | null | undefined;

/** One column: its heading and cell in the tables (none: CSV only), and its CSV columns. */
interface Column<Row> {
  head?: string;
  cell?: (row: Row) => string;
  csv: Array<[name: string, value: (row: Row) => CsvValue]>;
}

const csvCell = (v: CsvValue) => {
  const t = v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

/** CSV text: a header line and a line per row. */
export function csvText(head: string[], rows: CsvValue[][]): string {
  return [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

const headsOf = <Row>(columns: Array<Column<Row>>) => columns.flatMap((c) => (c.head === undefined ? [] : [c.head]));
const cellsOf = <Row>(columns: Array<Column<Row>>, row: Row) => columns.flatMap((c) => (c.cell ? [c.cell(row)] : []));
const csvHead = <Row>(columns: Array<Column<Row>>) => columns.flatMap((c) => c.csv.map(([name]) => name));
const csvRow = <Row>(columns: Array<Column<Row>>, row: Row) => columns.flatMap((c) => c.csv.map(([, v]) => v(row)));

/** The columns of a replay's policy (one policy on one runtime). */
const POLICY_COLUMNS: Array<Column<PolicySummary>> = [
  { head: 'runtime', cell: (p) => runtimeLabel(p.runtime), csv: [['runtime', (p) => p.runtime]] },
  { head: 'policy', cell: (p) => p.policy, csv: [['policy', (p) => p.policy]] },
  { head: 'invocations', cell: (p) => String(p.invocations), csv: [['invocations', (p) => p.invocations]] },
  { csv: [['ok', (p) => p.ok]] },
  {
    head: 'cold starts',
    cell: (p) => `${p.coldStarts} (${(p.coldShare * 100).toFixed(1)}%)`,
    csv: [
      ['cold_starts', (p) => p.coldStarts],
      ['cold_share', (p) => p.coldShare],
    ],
  },
  { head: 'p50', cell: (p) => fmtMs(p.latencyMs.p50), csv: [['p50_ms', (p) => p.latencyMs.p50]] },
  { csv: [['p90_ms', (p) => p.latencyMs.p90]] },
  { head: 'p99', cell: (p) => fmtMs(p.latencyMs.p99), csv: [['p99_ms', (p) => p.latencyMs.p99]] },
  { head: 'max', cell: (p) => fmtMs(p.latencyMs.max), csv: [['max_ms', (p) => p.latencyMs.max]] },
  { head: 'kept (peak)', cell: (p) => String(p.keptPeak), csv: [['kept_peak', (p) => p.keptPeak]] },
  {
    head: 'kept sandbox-h',
    cell: (p) => (p.keptSandboxS / 3600).toFixed(2),
    csv: [['kept_sandbox_h', (p) => p.keptSandboxS / 3600]],
  },
  { csv: [['watts_per_sandbox', (p) => p.wattsPerSandbox]] },
  { head: 'keep-warm', cell: (p) => fmtJ(p.keepWarmJ), csv: [['keep_warm_j', (p) => p.keepWarmJ]] },
  { head: 'invocations', cell: (p) => fmtJ(p.invocationJ), csv: [['invocation_j', (p) => p.invocationJ]] },
  { head: 'total', cell: (p) => fmtJ(p.totalJ), csv: [['total_j', (p) => p.totalJ]] },
];

/** The headings of the replay table. */
export const policyHead = (): string[] => headsOf(POLICY_COLUMNS);
/** One policy's row of the replay table, as the terminal summary and the reports show it. */
export const policyCells = (p: PolicySummary): string[] => cellsOf(POLICY_COLUMNS, p);

/**
 * The CSV of a replay: a line per policy with the raw figures of every cell of the table (its
 * `trace_function` empty), each followed by a line per trace function (`f1`, `f2`, ..., the
 * function it ran, its invocations and cold starts; the policy's other figures left empty).
 */
export function policiesCsv(r: Pick<ReplayResult, 'results' | 'trace' | 'mapping'>): string {
  const head = csvHead(POLICY_COLUMNS);
  const at = (name: string) => head.indexOf(name);
  const rows: CsvValue[][] = [];
  for (const p of r.results) {
    rows.push([...csvRow(POLICY_COLUMNS, p), '', '']);
    r.trace.functions.forEach((f, i) => {
      const counts = p.perFunction[f] ?? { invocations: 0, coldStarts: 0 };
      const row: CsvValue[] = new Array<CsvValue>(head.length).fill('');
      row[at('runtime')] = p.runtime;
      row[at('policy')] = p.policy;
      row[at('invocations')] = counts.invocations;
      row[at('cold_starts')] = counts.coldStarts;
      row[at('cold_share')] = counts.invocations ? counts.coldStarts / counts.invocations : '';
      rows.push([...row, `f${i + 1}`, r.mapping[f]?.function ?? '']);
    });
  }
  return csvText([...head, 'trace_function', 'runs'], rows);
}
