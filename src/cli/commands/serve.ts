/** `nebula serve`: the REST API and web page. */
import { meterFromUrl, meterUsage } from '../../meters/registry.js';
import { Nebula } from '../../nebula.js';
import { runtimeDescriptors } from '../../runtimes/registry.js';
import { createServer } from '../../server/index.js';
import { fmtMs } from '../../experiment/report/format.js';
import { CliError, parse, parseDuration, parsePort, type Command } from '../args.js';

const usage = () =>
  `Usage: nebula serve [--port 3090] [--host 127.0.0.1] [--token T] [--meter ${meterUsage('|')}] [--baseline 30s] [--json]

Serves the REST API and the web page (http://127.0.0.1:3090/). Listening on another address
than loopback needs --token (clients send "Authorization: Bearer T"). See docs/server.md.
--baseline DURATION measures the idle power first (keep the machine idle meanwhile), so every
record's energy is also given above idle; without it, energy includes idle power.
--json prints the ready line as JSON ({"url", "baseline"}).`;

const options = {
  port: { type: 'string' },
  host: { type: 'string' },
  token: { type: 'string' },
  meter: { type: 'string' },
  baseline: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'serve', options);
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (positionals.length) throw new CliError('nebula serve takes no positional arguments; see --help.');
  const meter = values.meter ? meterFromUrl(values.meter) : undefined;
  const port = values.port ? parsePort(values.port) : 3090;
  const baselineMs = values.baseline ? parseDuration(values.baseline, '--baseline') : 0;
  if (baselineMs > 0 && meter === null)
    throw new CliError('--baseline needs a meter; --meter none measures no energy.');
  const nebula = new Nebula(meter !== undefined ? { meter } : {});
  const api = createServer(nebula, values.token ? { token: values.token } : {});
  try {
    // A meter named on the command line must be readable; without --meter the default one is best effort.
    if (nebula.meter && values.meter) await nebula.checkMeter();
    // The engine's set-up first, so no request waits for it.
    await nebula.ready();
    const baseline = baselineMs > 0 ? await nebula.measureBaseline({ durationMs: baselineMs }) : null;
    const { url } = await api.listen(port, values.host ?? '127.0.0.1');
    // A server deploys ahead, as a FaaS platform does: the built-ins are prepared in the background
    // on each runtime that starts ahead (Wasm), so a first request finds them ready (prepareMs 0).
    // A failure here shows on the request that needs the function, as a failed record.
    const ahead = runtimeDescriptors()
      .filter((d) => d.startsAhead)
      .map((d) => d.kind);
    void nebula.prepare(undefined, ahead).catch(() => undefined);
    // Listen for Ctrl-C before saying we are ready, so a signal right after the line is handled.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    if (values.json) console.log(JSON.stringify({ url: `${url}/`, baseline }));
    else {
      // One write, so the two lines arrive together.
      const idle = !nebula.meter
        ? ''
        : baseline
          ? `\nenergy: above the idle baseline of ${baseline.powerW.toFixed(2)} W (${baseline.samples} samples over ${fmtMs(baseline.durationMs)})`
          : '\nenergy: including idle power (no baseline; --baseline 30s measures one)';
      console.log(`nebula-faas serving on ${url}/ (Ctrl-C stops it)${idle}`);
    }
    await stopped;
  } finally {
    await api.close();
    await nebula.close();
  }
  return 0;
}

export const command: Command = {
  name: 'serve',
  summary: 'REST API and web page',
  get usage() {
    return usage();
  },
  options,
  run,
};
