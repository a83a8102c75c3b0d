/**
 * `nebula.config.json`: the functions (built-in or the user's own, with their artifacts and
 * inputs), runtimes, modes, repetitions and meter of `nebula bench --config FILE`. Every field is
 * checked against the shipped schema, unknown keys included; a problem is one line naming it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BUILTIN_NAMES } from '../builtins.js';
import { UsageError } from '../errors.js';
import type { ExperimentConfig } from '../experiment/run/config.js';
import { RUNTIME_KINDS, type RuntimeKind } from '../runtimes/index.js';
import type { FunctionSpec, InvocationMode } from '../types.js';
import { configSchema } from './config-schema.js';
import { addBinary, addSource, checkSource, type FunctionDraft } from './functions-spec.js';
import { checkSchema } from './schema-check.js';

/** What a config file asks for. */
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
  [kind: string]: unknown;
}

function fail(file: string, problem: string, field: string): never {
  throw new UsageError('INVALID_CONFIG', `${file}: ${problem}.`, { details: { field } });
}

/**
 * Reads and checks a config file; relative paths in it are taken from the file's folder.
 * @throws UsageError `INVALID_CONFIG`: one line naming the file, the field and what is wrong.
 */
export function loadBenchFile(path: string): BenchFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const what = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message.split('\n')[0];
    fail(path, `cannot be read as JSON (${what})`, '');
  }
  const base = dirname(resolve(path));
  const schema = configSchema();
  // Runtime sources are checked by their descriptors (clearer messages), the rest by the schema.
  const kinds = new Set<string>(RUNTIME_KINDS);
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
  const inputs: Record<string, unknown[]> = {};
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
      if (f.limits || f.grants || f.description)
        fail(path, `${at} (${name}) sets limits, grants or a description but no artifact: ${give}`, at);
      return; // a built-in with its own inputs
    }
    if (f.description) d.spec.description = f.description;
    if (f.limits) d.spec.limits = f.limits;
    if (f.grants) d.spec.grants = f.grants;
  });

  const experiment: BenchFile['experiment'] = {};
  if (c.runtimes) experiment.runtimes = c.runtimes as RuntimeKind[];
  if (c.baselineRuntime) experiment.baseline = c.baselineRuntime as RuntimeKind;
  if (c.modes) experiment.modes = c.modes as InvocationMode[];
  for (const k of [
    'repetitions',
    'warmup',
    'order',
    'seed',
    'baselineMs',
    'batchWindowMs',
    'timeoutMs',
    'micro',
    'keepWarm',
  ] as const)
    if (c[k] !== undefined) (experiment as Record<string, unknown>)[k] = c[k];
  return {
    specs: [...drafts.values()].map((d) => d.spec),
    ...(names.length ? { functions: names } : {}),
    inputs,
    experiment,
    ...(typeof c.meter === 'string' ? { meter: c.meter } : {}),
    ...(typeof c.out === 'string' ? { out: resolve(base, c.out) } : {}),
    warnings,
  };
}
