/** `nebula functions`: what is deployed, with sizes and runtimes. */
import { Nebula } from '../../nebula.js';
import { parse } from '../args.js';

export const usage = `Usage: nebula functions [--json]

Lists the deployed functions (the built-ins), their runtimes and wasm size; --json adds each artifact.`;

export async function functions(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } }, usage);
  if (values.help) return void console.log(usage), 0;
  const nebula = new Nebula();
  try {
    const list = await nebula.functions();
    if (values.json) return void console.log(JSON.stringify(list, null, 2)), 0;
    const size = (n?: number) => (n === undefined ? '–' : `${(n / 1024).toFixed(1)} KiB`);
    const rows = list.map((f) => [f.name, f.runtimes.join(', '), size(f.artifacts.wasm?.sizeBytes), f.description ?? '']);
    const head = ['name', 'runtimes', 'wasm', 'description'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    console.log(line(head));
    for (const r of rows) console.log(line(r));
    return 0;
  } finally {
    await nebula.close();
  }
}
