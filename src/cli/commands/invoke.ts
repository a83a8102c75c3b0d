/** `nebula invoke <function> <input>`. */
import { Nebula } from '../../nebula.js';
import type { InvocationMode, RuntimeKind } from '../../types.js';
import { CliError, parse, parseDuration, parseInput } from '../args.js';
import { fmtMs } from '../../bench/format.js';

export const usage = `Usage: nebula invoke <function> <input> [--runtime wasm|docker] [--mode cold|warm] [--timeout 30s] [--json]

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
  const runtime = values.runtime as RuntimeKind | undefined;
  if (runtime && runtime !== 'wasm' && runtime !== 'docker') throw new CliError(`--runtime is wasm or docker, got "${runtime}".`);
  const mode = values.mode as InvocationMode | undefined;
  if (mode && mode !== 'cold' && mode !== 'warm') throw new CliError(`--mode is cold or warm, got "${mode}".`);
  const nebula = new Nebula();
  try {
    const rec = await nebula.invoke(name, parseInput(text), {
      ...(runtime ? { runtime } : {}),
      ...(mode ? { mode } : {}),
      ...(values.timeout ? { timeoutMs: parseDuration(values.timeout, '--timeout') } : {}),
    });
    if (values.json) console.log(JSON.stringify(rec, null, 2));
    else if (rec.ok) {
      console.log(typeof rec.result === 'string' ? rec.result : JSON.stringify(rec.result));
      const t = rec.timing;
      console.error(`${rec.runtime} ${rec.mode}: startup ${fmtMs(t.startupMs)}, exec ${fmtMs(t.execMs)}, total ${fmtMs(t.totalMs)}`);
    } else {
      console.error(`nebula: ${rec.error?.code}: ${rec.error?.message}`);
    }
    return rec.ok ? 0 : 1;
  } finally {
    await nebula.close();
  }
}
