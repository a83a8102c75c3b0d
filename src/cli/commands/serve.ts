/** `nebula serve`: the REST API and web page. */
import { meterFromUrl, meterUsage } from '../../meters/registry.js';
import { Nebula } from '../../nebula.js';
import { runtimeDescriptors } from '../../runtimes/registry.js';
import { createServer } from '../../server/index.js';
import { CliError, parse, parsePort, type Command } from '../args.js';

const usage =
  () => `Usage: nebula serve [--port 3090] [--host 127.0.0.1] [--token T] [--meter ${meterUsage('|')}] [--json]

Serves the REST API and the web page (http://127.0.0.1:3090/). Listening on another address
than loopback needs --token (clients send "Authorization: Bearer T"). See docs/server.md.
--json prints the ready line as JSON ({"url"}).`;

const options = {
  port: { type: 'string' },
  host: { type: 'string' },
  token: { type: 'string' },
  meter: { type: 'string' },
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
  const nebula = new Nebula(meter !== undefined ? { meter } : {});
  const api = createServer(nebula, values.token ? { token: values.token } : {});
  try {
    // A meter named on the command line must be readable; without --meter the default one is best effort.
    if (nebula.meter && values.meter) await nebula.checkMeter();
    // The engine's set-up first, so no request waits for it.
    await nebula.ready();
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
    if (values.json) console.log(JSON.stringify({ url: `${url}/` }));
    else console.log(`nebula-faas serving on ${url}/ (Ctrl-C stops it)`);
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
