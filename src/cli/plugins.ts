/**
 * `nebula --plugin MODULE <command>`: runtimes and meters of one's own, registered before the
 * command runs. A plugin is an ES module whose default export is a runtime descriptor (it has a
 * `kind`), a meter descriptor (it has a `scheme`), or a list of them.
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';
import { registerMeter } from '../meters/registry.js';
import type { MeterDescriptor } from '../meters/meter.js';
import { registerRuntime } from '../runtimes/registry.js';
import type { RuntimeDescriptor } from '../runtimes/runtime.js';

/** A path (`./x.mjs`, `/abs/x.mjs`) as a file URL from the current folder; a package name as resolved from there. */
function locate(spec: string): string {
  if (/^[./]/.test(spec)) return pathToFileURL(resolve(spec)).href;
  try {
    return pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve(spec)).href;
  } catch (e) {
    throw new UsageError('INVALID_ARGUMENT', `--plugin ${spec}: no such module from ${process.cwd()}.`, { cause: e });
  }
}

/**
 * Imports a plugin and registers what its default export holds.
 * @returns what it registered, e.g. `['runtime js', 'meter powerfile']`.
 * @throws UsageError `INVALID_ARGUMENT` when it cannot be imported or holds no descriptor.
 */
export async function loadPlugin(spec: string): Promise<string[]> {
  let module: { default?: unknown };
  try {
    module = (await import(locate(spec))) as { default?: unknown };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError('INVALID_ARGUMENT', `--plugin ${spec} could not be imported: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const found = Array.isArray(module.default) ? (module.default as unknown[]) : [module.default];
  const registered: string[] = [];
  for (const d of found) {
    if (d && typeof d === 'object' && 'kind' in d) {
      registerRuntime(d as RuntimeDescriptor);
      registered.push(`runtime ${(d as RuntimeDescriptor).kind}`);
    } else if (d && typeof d === 'object' && 'scheme' in d) {
      registerMeter(d as MeterDescriptor);
      registered.push(`meter ${(d as MeterDescriptor).scheme}`);
    } else
      throw new UsageError(
        'INVALID_ARGUMENT',
        `--plugin ${spec}: its default export must be a runtime descriptor, a meter descriptor, or a list of them.`,
      );
  }
  return registered;
}

/** Takes the leading `--plugin MODULE` (or `--plugin=MODULE`) pairs off `argv`: the modules, and the rest. */
export function pluginArgs(argv: string[]): { plugins: string[]; rest: string[] } {
  const plugins: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--plugin=')) plugins.push(arg.slice('--plugin='.length));
    else if (arg === '--plugin') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('-'))
        throw new UsageError('INVALID_ARGUMENT', '--plugin takes a module: a path or a package name.');
      plugins.push(value);
    } else break;
  }
  return { plugins, rest: argv.slice(i) };
}
