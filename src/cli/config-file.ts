/**
 * Config files: `nebula.config.json` of `nebula bench --config FILE` (the functions, built-in or
 * the user's own with their artifacts and inputs, runtimes, modes, repetitions, meter), and the
 * files of `nebula load` and `nebula replay`, which share its functions, runtimes, meter and out.
 * Every field is checked against the command's schema, unknown keys included; a problem is one
 * line naming it.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BUILTIN_NAMES } from '../builtins.js';
import { UsageError } from '../errors.js';
import { keyTable } from '../own-keys.js';
import type { ExperimentConfig } from '../experiment/run/config.js';
import { meterFromUrl } from '../meters/registry.js';
import { runtimeKinds, type RuntimeKind } from '../runtimes/registry.js';
import type { FunctionSpec, InvocationMode } from '../types.js';
import { configSchema, loadConfigSchema, replayConfigSchema } from './config-schema.js';
import { CliError, parseList } from './args.js';
import { addBinary, addSource, checkSource, functionsFromFlags, type FunctionDraft } from './functions-spec.js';
import { nearest } from '../known-keys.js';
import { jsonErrorOffset, lineColumn } from './json-syntax.js';
import { checkSchema } from '../json-schema.js';

/** What any command's config file asks for: the shared fields, and the rest as written. */
export interface ConfigFile {
  /** The user's functions to deploy (built-ins are already there). */
  specs: FunctionSpec[];
  /** Every function to run, in the file's order; undefined when the file names none. */
  functions?: string[];
  /** Inputs per function given in the file. */
  inputs: Record<string, unknown[]>;
  meter?: string;
  /** Absolute output folder, when the file sets one. */
  out?: string;
  /** What the file asks for that probably is not meant (a binary another artifact overrides). */
  warnings: string[];
  /** The file's fields as written, checked against the schema. */
  fields: Record<string, unknown>;
  /** The file's folder: relative paths in it are taken from here. */
  base: string;
}

/** What a bench config file asks for. */
export interface BenchFile {
  /** The user's functions to deploy (built-ins are already there). */
  specs: FunctionSpec[];
  /** Every function to run, in the file's order; undefined when the file names none. */
  functions?: string[];
  /** Inputs per function given in the file. */
  inputs: Record<string, unknown[]>;
  /** The experiment fields the file sets. */
  experiment: Partial<Omit<ExperimentConfig, 'functions' | 'inputs' | 'outDir'>>;
  meter?: string;
  /** Absolute output folder, when the file sets one. */
  out?: string;
  /** What the file asks for that probably is not meant (a binary another artifact overrides). */
  warnings: string[];
}

interface RawFunction {
  name: string;
  description?: string;
  inputs?: unknown[];
  binary?: string;
  limits?: FunctionSpec['limits'];
  grants?: FunctionSpec['grants'];
  preinit?: FunctionSpec['preinit'];
  initFunc?: string;
  checkInput?: unknown;
  [kind: string]: unknown;
}

/** The commands that read a config file: the schema of each one's file, and where its file is described. */
const CONFIG_FILES = {
  bench: { schema: configSchema, docs: 'docs/cli.md, A config file' },
  load: { schema: loadConfigSchema, docs: 'docs/load.md, Config files' },
  replay: { schema: replayConfigSchema, docs: 'docs/load.md, Config files' },
} as const;

/** A command that reads a config file (`--config FILE`). */
export type ConfigCommand = keyof typeof CONFIG_FILES;

const fieldsOf = (command: ConfigCommand) => Object.keys(CONFIG_FILES[command].schema().properties ?? {});

/**
 * A file is the kind of config whose fields it has: one with a field `command` does not take, all
 * of whose fields another command takes, is that command's file, and is refused as such.
 */
function checkKind(path: string, keys: string[], command: ConfigCommand): void {
  const own = fieldsOf(command);
  if (keys.every((k) => own.includes(k))) return;
  const others = (Object.keys(CONFIG_FILES) as ConfigCommand[]).filter(
    (c) => c !== command && keys.every((k) => fieldsOf(c).includes(k)),
  );
  if (others.length)
    throw new UsageError(
      'INVALID_CONFIG',
      `${path} is a ${others.map((c) => `\`nebula ${c}\``).join(' or ')} config file; \`nebula ${command} --config\` takes a ${command} config (${CONFIG_FILES[command].docs}).`,
      { details: { field: '', configOf: others } },
    );
}

function fail(file: string, problem: string, field: string): never {
  throw new UsageError('INVALID_CONFIG', `${file}: ${problem}.`, { details: { field } });
}

/** The largest config file read, bytes: a config is a few KiB, so a larger file is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The text of a config file: a regular file (never a device or a pipe, which could be endless or
 * block), at most {@link MAX_CONFIG_BYTES}, known before reading.
 */
function readConfigText(path: string): string {
  let fd: number;
  try {
    // Non-blocking, so a FIFO is refused at once instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(path, `cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)})`, '');
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) fail(path, 'is not a regular file (a config is a JSON file)', '');
    if (stat.size > MAX_CONFIG_BYTES)
      fail(path, `is ${stat.size} bytes, over the ${MAX_CONFIG_BYTES} a config file may have`, '');
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let size = 0;
    for (let n = 1; n > 0 && size < buf.length; size += n) n = readSync(fd, buf, size, buf.length - size, null);
    if (size > MAX_CONFIG_BYTES) fail(path, `grew past the ${MAX_CONFIG_BYTES} bytes a config file may have`, '');
    return buf.toString('utf8', 0, size);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and checks a bench config file; relative paths in it are taken from the file's folder.
 * @throws UsageError `INVALID_CONFIG`: one line naming the file, the field and what is wrong.
 */
export function loadBenchFile(path: string): BenchFile {
  const { fields: c, base: _base, ...file } = loadConfigFile(path, 'bench');
  const experiment: BenchFile['experiment'] = {};
  if (c.runtimes) experiment.runtimes = c.runtimes as RuntimeKind[];
  if (c.baselineRuntime) experiment.baseline = c.baselineRuntime as RuntimeKind;
  if (c.modes) experiment.modes = c.modes as InvocationMode[];
  for (const k of [
    'repetitions',
    'warmup',
    'concurrency',
    'order',
    'seed',
    'baselineMs',
    'batchWindowMs',
    'timeoutMs',
    'micro',
    'keepWarm',
    'preinit',
  ] as const)
    if (c[k] !== undefined) (experiment as Record<string, unknown>)[k] = c[k];
  return { ...file, experiment };
}

/**
 * Reads a config file of `command` and checks it against its schema; its functions, meter and out
 * are read as every command reads them, relative paths from the file's folder.
 * @throws UsageError `INVALID_CONFIG`: one line naming the file, the field and what is wrong, or
 * the command whose file it is when it is another command's.
 */
export function loadConfigFile(path: string, command: ConfigCommand): ConfigFile {
  const schema = CONFIG_FILES[command].schema();
  const text = readConfigText(path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // Never the parser's message: it quotes the text, and the file may be anything but a config.
    const at = jsonErrorOffset(text);
    fail(
      path,
      `is not JSON (${at < 0 ? 'it cannot be parsed' : at >= text.length ? 'it ends too early' : `a syntax error at ${lineColumn(text, at)}`}); a config is a JSON object`,
      '',
    );
  }
  const known = Object.keys(schema.properties ?? {});
  // A file that is not a config at all is said to be so, and nothing of it is shown.
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(
      path,
      `is not a nebula config: a config is a JSON object, this is ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : `a ${typeof raw}`}`,
      '',
    );
  const keys = Object.keys(raw);
  checkKind(path, keys, command);
  // A config with a mistyped field is still a config: only a file with no field near a known one is not.
  if (keys.length && !keys.some((k) => known.includes(k) || nearest(k, known)))
    fail(path, `is not a nebula config: none of its ${keys.length} fields is one of ${known.join(', ')}`, '');
  const base = dirname(resolve(path));
  // Runtime sources are checked by their descriptors (clearer messages), the rest by the schema.
  const kinds = new Set<string>(runtimeKinds());
  const withoutSources = (f: unknown) =>
    f && typeof f === 'object' && !Array.isArray(f)
      ? Object.fromEntries(Object.entries(f).filter(([k]) => !kinds.has(k)))
      : f;
  const shallow =
    raw && typeof raw === 'object' && Array.isArray((raw as Record<string, unknown>).functions)
      ? {
          ...(raw as Record<string, unknown>),
          functions: ((raw as Record<string, unknown>).functions as unknown[]).map(withoutSources),
        }
      : raw;
  const problem = checkSchema(shallow, schema, '');
  if (problem) fail(path, problem.replace(/^ /, 'the file '), problem.startsWith(' ') ? '' : problem.split(' ')[0]!);

  const c = raw as Record<string, unknown>;
  const drafts = new Map<string, FunctionDraft>();
  const warnings: string[] = [];
  const names: string[] = [];
  const inputs = keyTable<unknown[]>();
  ((c.functions as Array<string | RawFunction> | undefined) ?? []).forEach((f, i) => {
    const at = `functions[${i}]`;
    const name = typeof f === 'string' ? f : f.name;
    if (names.includes(name)) fail(path, `${at}: "${name}" is listed twice`, at);
    names.push(name);
    if (typeof f === 'string') return;
    if (f.inputs) inputs[name] = f.inputs;
    const given = [...kinds].filter((k) => f[k] !== undefined);
    for (const kind of given)
      addSource(
        drafts,
        name,
        kind as RuntimeKind,
        checkSource(kind as RuntimeKind, f[kind], name, `${path}: ${at}.${kind}`, base),
        `${at}.${kind}`,
      );
    if (f.binary !== undefined)
      addBinary(drafts, name, f.binary, `${path}: ${at}.binary`, base, (w) => warnings.push(w));
    const d = drafts.get(name);
    if (!d) {
      const give = `give ${[...kinds].join(', ')} or binary`;
      if (!(BUILTIN_NAMES as readonly string[]).includes(name))
        fail(path, `${at} (${name}) has no artifact and is not a built-in: ${give}`, at);
      if (f.limits || f.grants || f.description || f.preinit !== undefined || f.initFunc || 'checkInput' in f)
        fail(
          path,
          `${at} (${name}) sets limits, grants, a description or pre-initialisation but no artifact: ${give}`,
          at,
        );
      return; // a built-in with its own inputs
    }
    if (f.description) d.spec.description = f.description;
    if (f.limits) d.spec.limits = f.limits;
    if (f.grants) d.spec.grants = f.grants;
    if (f.preinit !== undefined) d.spec.preinit = f.preinit;
    if (f.initFunc) d.spec.initFunc = f.initFunc;
    if ('checkInput' in f) d.spec.checkInput = f.checkInput;
  });

  // The meter by its own descriptor, whose message says what its URL takes.
  if (typeof c.meter === 'string')
    try {
      meterFromUrl(c.meter);
    } catch (e) {
      fail(path, `meter: ${(e as Error).message.replace(/\.$/, '')}`, 'meter');
    }

  return {
    specs: [...drafts.values()].map((d) => d.spec),
    ...(names.length ? { functions: names } : {}),
    inputs,
    ...(typeof c.meter === 'string' ? { meter: c.meter } : {}),
    ...(typeof c.out === 'string' ? { out: resolve(base, c.out) } : {}),
    warnings,
    fields: c,
    base,
  };
}

/** What a command runs, from its config file and its flags. */
export interface FunctionsToRun {
  /** The user's functions to deploy: the file's, then the flags'. */
  own: FunctionSpec[];
  /** The functions to run, in order. */
  functions: string[];
  /** The file's warnings and the flags' (a binary another artifact overrides), for the plan and the run to print. */
  warnings: string[];
}

/**
 * The functions of `nebula bench`, `load` and `replay`: `--functions`, else the file's and the
 * flags' own, else `byDefault`.
 * @throws CliError (exit 2) for a function defined both in the file and by a flag, a bad `--functions`.
 */
export function functionsToRun(
  values: { config?: string | undefined; functions?: string | undefined },
  file: Pick<ConfigFile, 'specs' | 'functions' | 'warnings'> | undefined,
  byDefault: readonly string[],
): FunctionsToRun {
  const warnings = [...(file?.warnings ?? [])];
  const fromFlags = functionsFromFlags(values as Partial<Record<string, string[]>>, undefined, (w) => warnings.push(w));
  for (const s of fromFlags)
    if (file?.specs.some((f) => f.name === s.name))
      throw new CliError(`Function "${s.name}" is defined both in ${values.config} and by a flag; give it once.`);
  const functions = values.functions
    ? parseList(values.functions, '--functions')
    : file?.functions || fromFlags.length
      ? [...new Set([...(file?.functions ?? []), ...fromFlags.map((s) => s.name)])]
      : [...byDefault];
  return { own: [...(file?.specs ?? []), ...fromFlags], functions, warnings };
}
