/** `nebula invoke <function> <input>`. */
import { fmtMs, fmtWh } from '../../experiment/format.js';
import { Nebula } from '../../nebula.js';
import { isRuntimeKind, RUNTIME_KINDS } from '../../runtimes/index.js';
import { INVOCATION_MODES, type InvocationMode } from '../../types.js';
import { CliError, parse, parseDuration, parseInput } from '../args.js';

export const usage = `Usage: nebula invoke <function> <input> [--runtime ${RUNTIME_KINDS.join('|')}] [--mode ${INVOCATION_MODES.join('|')}] [--timeout 30s] [--json]

Invokes a function once; the input is JSON (42, '{"n":5}') or else taken as a string.
Prints the result and the timings, or the whole record with --json. Exit code 1 when the function fails.`;

export async function invoke(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { runtime: { type: 'string' }, mode: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
    usage,
  );
  if (values.help) return void console.log(usage), 0;
  if (positionals.length !== 2) throw new CliError(`nebula invoke takes a function and an input. (see --help).`);
  const [name, text] = positionals as [string, string];
  const runtime: unknown = values.runtime;
  if (runtime !== undefined && !isRuntimeKind(runtime)) throw new CliError(`--runtime is one of ${RUNTIME_KINDS.join(', ')}, got "${String(runtime)}".`);
  const mode = values.mode as InvocationMode | undefined;
  if (mode !== undefined && !INVOCATION_MODES.includes(mode)) throw new CliError(`--mode is one of ${INVOCATION_MODES.join(', ')}, got "${mode}".`);
  const nebula = new Nebula();
  try {
    const rec = await nebula.invoke(name, parseInput(text), {
      ...(runtime ? { runtime } : {}),
      ...(mode ? { mode } : {}),
      ...(values.timeout ? { timeoutMs: parseDuration(values.timeout, '--timeout') } : {}),
      waitForEnergy: true,
    });
    if (values.json) console.log(JSON.stringify(rec, null, 2));
    else if (rec.ok) {
      console.log(typeof rec.result === 'string' ? rec.result : JSON.stringify(rec.result));
      const t = rec.timing;
      const waited = t.prepareMs > 0 ? ` (after ${fmtMs(t.prepareMs)} of set-up: prepareMs)` : '';
      console.error(`${rec.runtime} ${rec.mode}: startup ${fmtMs(t.startupMs)}, exec ${fmtMs(t.execMs)}, total ${fmtMs(t.totalMs)}${waited}`);
      const e = rec.energy;
      console.error(e ? `energy: ${fmtWh(e.energyWh)} (${e.meter}${e.estimate ? ', an estimate' : ''})` : `energy: ${rec.energyNote?.message ?? rec.energyStatus}`);
    } else {
      console.error(`nebula: ${rec.error.code}: ${rec.error.message}`);
    }
    return rec.ok ? 0 : 1;
  } finally {
    await nebula.close();
  }
}
