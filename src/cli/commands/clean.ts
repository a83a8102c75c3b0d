/** `nebula clean`: removes what nebula-faas leaves on this machine between runs, listing each thing. */
import { runtimeDescriptors } from '../../runtimes/registry.js';
import type { Removal } from '../../runtimes/runtime.js';
import { CliError, parse, type Command } from '../args.js';
import { textTable } from '../table.js';

/** The help text, with the runtimes registered when it is asked for. */
const usage = () => `Usage: nebula clean [--dry-run] [--json]

Removes what nebula-faas keeps on this machine between runs, and lists each thing:
${runtimeDescriptors()
  .filter((d) => d.clean)
  .map((d) => `  ${d.label}: ${d.leaves ?? 'what it leaves'}`)
  .join('\n')}
What a nebula-faas still running uses stays (listed, saying so). The next deploy builds or
compiles again what it needs. Run folders (nebula-results/) are yours and stay.
  --dry-run   list, remove nothing
  --json      the list as JSON`;

const options = { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } as const;

const size = (b?: number) =>
  b === undefined ? '' : b < 1024 * 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 / 1024).toFixed(1)} MiB`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'clean', options);
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (positionals.length) throw new CliError('nebula clean takes no positional arguments; see --help.');
  const dryRun = values['dry-run'] === true;
  const found: Array<Removal & { runtime: string }> = [];
  const unreachable: string[] = [];
  for (const d of runtimeDescriptors()) {
    if (!d.clean) continue;
    try {
      for (const r of await d.clean({ dryRun })) found.push({ runtime: d.kind, ...r });
    } catch (e) {
      // A runtime that cannot be reached here (no Docker engine) has nothing to clean here.
      unreachable.push(`${d.label}: ${(e as Error).message}`);
    }
  }
  if (values.json) {
    console.log(JSON.stringify({ dryRun, items: found, unreachable }, null, 2));
    return 0;
  }
  if (!found.length) console.log(`Nothing to ${dryRun ? 'remove' : 'clean'}: nebula-faas left nothing here.`);
  else
    console.log(
      textTable(
        ['runtime', 'what', 'name', 'size', dryRun ? 'would be' : 'result'],
        found.map((r) => [
          r.runtime,
          r.kind,
          r.name,
          size(r.sizeBytes),
          r.removed ? 'removed' : r.reason ? `kept: ${r.reason}` : dryRun ? 'removed' : 'kept',
        ]),
      ),
    );
  for (const u of unreachable) console.log(`not cleaned: ${u}`);
  return 0;
}

export const command: Command = {
  name: 'clean',
  summary: 'remove the images, volumes and caches nebula-faas keeps between runs',
  get usage() {
    return usage();
  },
  options,
  run,
};
