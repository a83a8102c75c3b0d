/** `nebula functions`: what is deployed, with sizes and runtimes. */
import { Nebula } from '../../nebula.js';
import { CliError, parse, type Command } from '../args.js';
import { textTable } from '../table.js';

const usage = `Usage: nebula functions [--json]

Lists the deployed functions (the built-ins), their runtimes and the size of the artifact of the
first (the runtime an invocation takes by default); --json adds each artifact.`;

const options = { json: { type: 'boolean' } } as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'functions', options);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length) throw new CliError('nebula functions takes no positional arguments; see --help.');
  // Only listing: nothing to warm up.
  const nebula = new Nebula({ warmUp: false, meter: null });
  try {
    const list = await nebula.functions();
    if (values.json) {
      console.log(JSON.stringify(list, null, 2));
      return 0;
    }
    const size = (n?: number) => (n === undefined ? '–' : `${(n / 1024).toFixed(1)} KiB`);
    console.log(
      textTable(
        ['name', 'runtimes', 'size', 'description'],
        list.map((f) => [
          f.name,
          f.runtimes.join(', '),
          size(f.runtimes[0] && f.artifacts[f.runtimes[0]]?.sizeBytes),
          f.description ?? '',
        ]),
      ),
    );
    return 0;
  } finally {
    await nebula.close();
  }
}

export const command: Command = { name: 'functions', summary: 'list the deployed functions', usage, options, run };
