/** Plain-text tables for the terminal: columns padded to their widest cell. */

/**
 * Renders rows under a header. `align` has one letter per column, `l` or `r` (default: all
 * left); a column of numbers reads best right-aligned.
 */
export function textTable(head: string[], rows: string[][], align = ''): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
