#!/usr/bin/env node
/** The `nebula` command: invoke, bench, report, functions, gude-sim, serve. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNebulaError, UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { adviseCommand } from './commands/advise.js';
import { bench } from './commands/bench.js';
import { functions } from './commands/functions.js';
import { gudeSim } from './commands/gude-sim.js';
import { invoke } from './commands/invoke.js';
import { report } from './commands/report.js';
import { serve } from './commands/serve.js';

const usage = `Usage: nebula <command> [options]

Run functions as WebAssembly or Docker and measure cold start, run time and energy.

Commands:
  invoke <function> <input>   invoke a function once
  bench                       benchmark functions on Wasm and Docker (try: nebula bench --quick)
  report <dir>                re-render the reports of a recorded experiment
  advise <dir> --rate 2/s     the runtime and mode using the least energy at an arrival rate
  functions                   list the deployed functions
  gude-sim                    run a Gude power meter simulator (Modbus TCP)
  serve                       REST API and web page

nebula <command> --help shows a command's options. nebula --version prints the version.`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  invoke,
  bench,
  report,
  advise: adviseCommand,
  functions,
  'gude-sim': gudeSim,
  serve,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-v') {
    console.log((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);
    return 0;
  }
  const run = commands[cmd];
  if (!run) {
    console.error(`nebula: unknown command "${cmd}".\n\n${usage}`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isNebulaError(e)) {
      // A usage mistake (bad flag, unknown function, bad config) is exit 2; anything else that went wrong is 1.
      const usageError = e instanceof UsageError;
      console.error(`nebula: ${e.code === 'INVALID_ARGUMENT' ? '' : `${e.code}: `}${e.message}`);
      if (e.code === 'RUNTIME_UNAVAILABLE') console.error('nebula: to measure without Docker, add --runtimes wasm (bench) or --runtime wasm (invoke).');
      process.exitCode = usageError ? 2 : 1;
    } else {
      console.error(`nebula: internal error (please report it): ${(e as Error)?.stack ?? String(e)}`);
      process.exitCode = 70;
    }
  },
);
