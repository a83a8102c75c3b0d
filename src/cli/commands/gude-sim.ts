/** `nebula gude-sim`: the Gude simulator, until Ctrl-C or SIGTERM. */
import { GudeSimulator, type GudeFault, type PowerTrace } from '../../meters/gude/index.js';
import { CliError, parse, parseDuration, parsePort, parseWhole, type Command } from '../args.js';

const usage = `Usage: nebula gude-sim [--port 5020] [--host 127.0.0.1] [--trace constant:60|sine:MEAN:AMPLITUDE:PERIOD|cpu]
                       [--outlets 8] [--fault none|exception|all-ff|garbage|frozen|close] [--json]

Serves the Gude Expert Power Control register map over Modbus TCP with a simulated power trace,
so the energy loop can be tried without the hardware. Point a meter at it:
  nebula bench --meter gude://127.0.0.1:5020/port1
--fault plays a broken device (see docs/energy.md); an outlet past --outlets is a Modbus exception.
--json prints the ready line as JSON ({"host", "port", "meter"}).`;

function parseTrace(text: string): PowerTrace {
  if (text === 'cpu') return 'cpu';
  let m = /^constant:(\d+(?:\.\d+)?)$/.exec(text);
  if (m) return Number(m[1]);
  m = /^sine:(\d+(?:\.\d+)?):(\d+(?:\.\d+)?):(\S+)$/.exec(text);
  if (m) {
    const mean = Number(m[1]);
    const amp = Number(m[2]);
    const period = parseDuration(m[3]!, '--trace period', true);
    return (t: number) => mean + amp * Math.sin((2 * Math.PI * t) / period);
  }
  throw new CliError(`--trace is constant:W, sine:MEAN:AMPLITUDE:PERIOD (e.g. sine:50:10:10s) or cpu, got "${text}".`);
}

const options = {
  port: { type: 'string' },
  host: { type: 'string' },
  trace: { type: 'string' },
  outlets: { type: 'string' },
  fault: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'gude-sim', options);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length) throw new CliError('nebula gude-sim takes no positional arguments; see --help.');
  const sim = new GudeSimulator({
    port: values.port ? parsePort(values.port) : 5020,
    host: values.host ?? '127.0.0.1',
    trace: parseTrace(values.trace ?? 'cpu'),
    ...(values.outlets ? { outlets: parseWhole(values.outlets, '--outlets') } : {}),
    ...(values.fault ? { fault: values.fault as GudeFault } : {}),
  });
  const { host, port } = await sim.start();
  // Listen for Ctrl-C before saying we are ready, so a signal right after the line is handled.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const meter = `gude://${host}:${port}/port1`;
  const fault = sim.fault === 'none' ? '' : `, playing the fault "${sim.fault}"`;
  if (values.json) console.log(JSON.stringify({ host, port, meter, fault: sim.fault }));
  else
    console.log(
      `Gude simulator on ${host}:${port} (outlets 1-${values.outlets ?? 8}, line 1${fault}); meter URL ${meter}. Ctrl-C stops it.`,
    );
  await stopped;
  await sim.stop();
  return 0;
}

export const command: Command = {
  name: 'gude-sim',
  summary: 'run a Gude power meter simulator (Modbus TCP)',
  usage,
  options,
  run,
};
