#!/usr/bin/env node
/** The `nebula` command: one module per command under commands/, listed once in COMMANDS. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNebulaError, isUsageError } from '../errors.js';
import { termText } from '../experiment/report/escape.js';
import { packageRoot } from '../paths.js';
import { runtimeDescriptors, runtimeKinds } from '../runtimes/registry.js';
import { nearest } from '../known-keys.js';
import type { Command } from './args.js';
import { command as advise } from './commands/advise.js';
import { command as bench } from './commands/bench.js';
import { command as clean } from './commands/clean.js';
import { command as compare } from './commands/compare.js';
import { completionCommand } from './commands/completion.js';
import { command as functions } from './commands/functions.js';
import { command as gudeSim } from './commands/gude-sim.js';
import { command as invoke } from './commands/invoke.js';
import { command as load } from './commands/load.js';
import { command as replay } from './commands/replay.js';
import { command as report } from './commands/report.js';
import { command as serve } from './commands/serve.js';
import { loadPlugin, pluginArgs } from './plugins.js';

/** Every command, in the order `nebula --help` lists them. */
const COMMANDS: Command[] = [invoke, bench, load, replay, report, compare, advise, functions, gudeSim, serve, clean];
COMMANDS.push(completionCommand(() => COMMANDS));

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: nebula [--plugin MODULE]... <command> [options]

Measures functions' cold start, run time and energy on every runtime (${runtimeDescriptors()
    .map((d) => d.label)
    .join(', ')}).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

nebula <command> --help (or nebula help <command>) shows a command's options; --json gives machine output. nebula --version prints the version.
--plugin MODULE registers the runtimes and meters a module's default export describes (docs/extending.md).
Exit codes: 0 done, 1 something failed, 2 a usage mistake, 130 interrupted (143 by SIGTERM), 70 an internal error.`;
}

async function main(args: string[]): Promise<number> {
  const { plugins, rest: argv } = pluginArgs(args);
  for (const plugin of plugins) await loadPlugin(plugin);
  const [name, ...rest] = argv;
  // `nebula help bench` is `nebula bench --help`.
  if (name === 'help' && rest.length) return main([rest[0]!, '--help']);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? console.log : console.error)(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const near = nearest(
      name,
      COMMANDS.map((c) => c.name),
    );
    console.error(
      termText(
        `nebula: unknown command "${name}".${near ? ` Did you mean "nebula ${near}"?` : ''} (nebula --help lists the commands)`,
      ),
    );
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isNebulaError(e)) {
      // A usage mistake (bad flag, unknown function, bad config) is exit 2; anything else that went wrong is 1.
      const usageError = isUsageError(e);
      // Messages carry names, paths and a function's stderr from outside: nothing in them acts on the terminal.
      console.error(termText(`nebula: ${e.code === 'INVALID_ARGUMENT' ? '' : `${e.code}: `}${e.message}`, true));
      if (e.code === 'METER_UNAVAILABLE' || e.code === 'METER_PROTOCOL')
        console.error('nebula: to measure without energy, run with --meter none ("meter": "none" in a config file).');
      if (e.code === 'RUNTIME_UNAVAILABLE')
        console.error(
          `nebula: to measure without it, choose other runtimes (bench --runtimes, invoke --runtime; registered: ${runtimeKinds().join(', ')}).`,
        );
      process.exitCode = usageError ? 2 : 1;
    } else {
      console.error(termText(`nebula: internal error (please report it): ${(e as Error)?.stack ?? String(e)}`, true));
      process.exitCode = 70;
    }
  },
);
