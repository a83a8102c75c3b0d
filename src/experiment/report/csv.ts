/**
 * Records as CSV (RFC 4180): one row per record, flat columns. Nested objects become dotted
 * columns (`timing.startupMs`, `energy.isolatedEnergyWh`, `timing.phases.instantiate`); the
 * input and result are JSON text; `outputMismatch` says whether the output check flagged it.
 */
import type { InvocationRecord } from '../../types.js';

/** The columns every export starts with, in this order; the others follow in the order first seen. */
const LEADING = [
  'id',
  'function',
  'runtime',
  'mode',
  'sandbox',
  'input',
  'ok',
  'result',
  'error.code',
  'error.message',
  'startedAt',
];
/** Values written as JSON text rather than flattened. */
const AS_JSON = new Set(['input', 'result', 'error.stderr']);

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (AS_JSON.has(prefix)) {
    out.set(prefix, value === undefined ? undefined : JSON.stringify(value));
    return;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  out.set(prefix, Array.isArray(value) ? JSON.stringify(value) : value);
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const t =
    typeof v === 'number'
      ? Number.isFinite(v)
        ? String(v)
        : ''
      : typeof v === 'string'
        ? v
        : typeof v === 'boolean' || typeof v === 'bigint'
          ? String(v)
          : JSON.stringify(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** CSV text of `records`; `mismatched` holds the ids the output check flagged. */
export function recordsToCsv(
  records: readonly InvocationRecord[],
  mismatched: ReadonlySet<string> = new Set(),
): string {
  const rows = records.map((r) => {
    const m = new Map<string, unknown>();
    flatten(r, '', m);
    m.set('outputMismatch', r.ok ? mismatched.has(r.id) : undefined);
    return m;
  });
  const columns = [...LEADING];
  for (const row of rows) for (const k of row.keys()) if (!columns.includes(k)) columns.push(k);
  return (
    [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row.get(c))).join(','))].join('\r\n') + '\r\n'
  );
}
