/** `nebula invoke <function> <input>`. */
import { termText } from '../../experiment/report/escape.js';
import { fmtMs, fmtWh } from '../../experiment/report/format.js';
import { execNote } from '../../experiment/report/kit.js';
import { Nebula } from '../../nebula.js';
import { isRuntimeKind, runtimeKinds } from '../../runtimes/registry.js';
import { INVOCATION_MODES, type InvocationMode } from '../../types.js';
import { nearest } from '../../known-keys.js';
import { CliError, parse, parseDuration, parseInput, type Command } from '../args.js';

const usage =
  () => `Usage: nebula invoke <function> <input> [--runtime ${runtimeKinds().join('|')}] [--mode ${INVOCATION_MODES.join('|')}] [--timeout 30s] [--json]

Invokes a function once; the input is JSON (42, '{"n":5}') or else taken as a string.
--timeout takes a number with its unit: 500ms, 30s, 2m or 1h.
Prints the result and the timings, or the whole record with --json. Exit code 1 when the function fails.`;

const options = {
  runtime: { type: 'string' },
  mode: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'invoke', options);
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (positionals.length !== 2) throw new CliError('nebula invoke takes a function and an input; see --help.');
  const [name, text] = positionals as [string, string];
  const runtime = values.runtime;
  if (runtime !== undefined && !isRuntimeKind(runtime)) {
    const near = nearest(String(runtime), runtimeKinds());
    throw new CliError(
      `--runtime is one of ${runtimeKinds().join(', ')}, got "${String(runtime)}"${near ? ` (did you mean ${near}?)` : ''}.`,
    );
  }
  const mode = values.mode as InvocationMode | undefined;
  if (mode !== undefined && !INVOCATION_MODES.includes(mode))
    throw new CliError(`--mode is one of ${INVOCATION_MODES.join(', ')}, got "${mode}".`);
  const timeoutMs = values.timeout ? parseDuration(values.timeout, '--timeout', true) : undefined;
  const nebula = new Nebula();
  try {
    const rec = await nebula.invoke(name, parseInput(text), {
      ...(runtime ? { runtime } : {}),
      ...(mode ? { mode } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      // A single invocation from the command line shows its energy, so it waits for the meter.
      waitForEnergy: true,
    });
    if (values.json) console.log(JSON.stringify(rec, null, 2));
    else if (rec.ok) {
      const text = typeof rec.result === 'string' ? rec.result : JSON.stringify(rec.result);
      // Piped, the output is the function's own; on a terminal it cannot act on the terminal.
      console.log(process.stdout.isTTY ? termText(text, true) : text);
      const t = rec.timing;
      const waited = t.prepareMs > 0 ? ` (after ${fmtMs(t.prepareMs)} of set-up: prepareMs)` : '';
      const note = execNote(rec.runtime);
      console.error(
        `${rec.runtime} ${rec.mode}: startup ${fmtMs(t.startupMs)}, exec ${fmtMs(t.execMs)}${note ? ' †' : ''}, total ${fmtMs(t.totalMs)}${waited}`,
      );
      if (note) console.error(`† ${note}`);
      const e = rec.energy;
      console.error(
        e
          ? `energy: ${fmtWh(e.energyWh)} (meter ${e.meter}${e.estimate ? ', an ESTIMATE, not a measurement' : ''})`
          : `energy: ${rec.energyNote?.message ?? rec.energyStatus}`,
      );
    } else {
      console.error(termText(`nebula: ${rec.error.code}: ${rec.error.message}`, true));
    }
    return rec.ok ? 0 : 1;
  } finally {
    await nebula.close();
  }
}

export const command: Command = {
  name: 'invoke',
  summary: 'invoke a function once',
  get usage() {
    return usage();
  },
  options,
  run,
};
