/** `nebula invoke <function> <input>`. */
import { termText } from '../../experiment/report/escape.js';
import { fmtMs, fmtWh } from '../../experiment/report/format.js';
import { execNote } from '../../experiment/report/kit.js';
import { Nebula } from '../../nebula.js';
import { isRuntimeKind, runtimeDescriptors, runtimeKinds } from '../../runtimes/registry.js';
import { BUILTIN_NAMES } from '../../builtins.js';
import { UsageError } from '../../errors.js';
import { INVOCATION_MODES, type FunctionSpec, type InvocationMode } from '../../types.js';
import { nearest } from '../../known-keys.js';
import { CliError, parse, parseDuration, parseInput, type Command, type Options, type Parsed } from '../args.js';
import { functionsFromFlags } from '../functions-spec.js';

/** The flags that give one's own function (`--wasm NAME=PATH`, ...), with its name when known. */
const ownFlags = (name = 'NAME') => [
  ...runtimeDescriptors().flatMap((d) => (d.source.flag ? [`--${d.kind} ${name}=${d.source.flag.value}`] : [])),
  `--binary ${name}=PATH`,
];

/** `a, b or c`. */
const orList = (items: string[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)!}` : (items[0] ?? '');

/** The help text, with the runtimes registered when it is asked for. */
const usage = () => {
  const own = ownFlags();
  return `Usage: nebula invoke <function> <input> [--runtime ${runtimeKinds().join('|')}] [--mode ${INVOCATION_MODES.join('|')}] [--timeout 30s] [--json]
       nebula invoke <name> <input> ${own.join(' | ')} [...]

Invokes a function once: a built-in, or your own given by ${own.map((f) => f.split(' ')[0]).join(', ')} (as for
nebula bench; a static binary goes to every runtime that takes one). The input is JSON (42,
'{"n":5}') or else taken as a string. --timeout takes a number with its unit: 500ms, 30s, 2m
or 1h. Prints the result and the timings, or the whole record with --json. Energy is printed
including idle power (no idle baseline is measured for one invocation). Exit code 1 when the
function fails.`;
};

const INVOKE_FLAGS = {
  binary: { type: 'string', multiple: true },
  runtime: { type: 'string' },
  mode: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Its flags: its own and each registered runtime's `--<kind> NAME=VALUE` (as nebula bench takes them). */
function options(): Options {
  const flags: Options = { ...INVOKE_FLAGS };
  for (const d of runtimeDescriptors())
    if (d.source.flag && !Object.hasOwn(flags, d.kind)) flags[d.kind] = { type: 'string', multiple: true };
  return flags;
}

async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, 'invoke', options());
  const values = parsed.values as Parsed<typeof INVOKE_FLAGS>['values'];
  const positionals = parsed.positionals;
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
  const own = functionsFromFlags(parsed.values as Partial<Record<string, string[]>>, undefined, (w) =>
    console.error(termText(`nebula: warning: ${w}`, true)),
  );
  if (own.length && !own.some((s) => s.name === name))
    throw new CliError(
      `nebula invoke ${name}: the flags define ${own.map((s) => `"${s.name}"`).join(', ')}, not "${name}"; give the name you deploy.`,
    );
  const mine = own.find((s) => s.name === name);
  if (mine && runtime && !(runtime in mine))
    throw new CliError(
      `"${name}" has no ${runtime} artifact (it has: ${runtimeKinds()
        .filter((k) => k in mine)
        .join(', ')}); give it one (${ownFlags().join(', ')}), or choose another --runtime.`,
    );
  const nebula = new Nebula();
  try {
    // Only the runtime this invocation uses is deployed (no image is built for a process run).
    if (own.length)
      await nebula.deploy(
        own.map((spec) => {
          const kind = runtime ?? runtimeKinds().find((k) => k in spec);
          return Object.fromEntries(
            Object.entries(spec).filter(([k]) => k === kind || !isRuntimeKind(k)),
          ) as FunctionSpec;
        }),
      );
    else if (!nebula.has(name)) {
      const near = nearest(
        name,
        (await nebula.functions()).map((f) => f.name),
      );
      throw new UsageError(
        'FUNCTION_NOT_FOUND',
        `No function named "${name}"${near ? ` (did you mean ${near}?)` : ''}: the built-ins are ${BUILTIN_NAMES.join(', ')}; run your own with ${orList(ownFlags(name))}.`,
      );
    }
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
          ? `energy: ${fmtWh(e.energyWh)} including idle (meter ${e.meter}${e.estimate ? ', an ESTIMATE, not a measurement' : ''})`
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
  get options() {
    return options();
  },
  positionals: ['function', 'text'],
  run,
};
