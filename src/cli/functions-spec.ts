/**
 * The user's own functions, from `--wasm/--docker/--binary name=...` flags or a config file's
 * `functions`, turned into function specs. Which runtimes take a static binary is asked of the
 * registry (each descriptor's `validate`), never listed here.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { RUNTIME_KINDS, runtimeDescriptor, type RuntimeKind } from '../runtimes/index.js';
import type { FunctionSpec } from '../types.js';

/** A user function being assembled: its name, artifacts per runtime, and where each came from (for messages). */
export interface FunctionDraft {
  spec: FunctionSpec;
  /** Where each artifact was given (`--wasm`, `functions[0].docker`), by kind. */
  origin: Partial<Record<RuntimeKind, string>>;
}

/** The kinds whose source may be `{ binary: path }`, found by asking each descriptor. */
function binaryKinds(): RuntimeKind[] {
  return RUNTIME_KINDS.filter((k) => {
    try {
      runtimeDescriptor(k).validate({ binary: '/bin/true' }, 'probe');
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Checks one runtime's source with its descriptor, resolves the file path it names (against
 * `base`) and checks that the file exists.
 * @throws UsageError `INVALID_CONFIG` naming `at`.
 */
export function checkSource(kind: RuntimeKind, source: unknown, name: string, at: string, base: string): unknown {
  const d = runtimeDescriptor(kind);
  let typed: unknown;
  try {
    typed = d.validate(source, name);
  } catch (e) {
    throw new UsageError('INVALID_CONFIG', `${at}: ${(e as Error).message}`, { details: { field: at } });
  }
  // The descriptor says which part of the source is a file (describe().path); resolve that one.
  const path = d.describe(typed).path;
  if (!path) return typed;
  const abs = resolve(base, path);
  if (!existsSync(abs)) throw new UsageError('INVALID_CONFIG', `${at}: no file at ${abs}.`, { details: { field: at } });
  if (typeof typed === 'string') return abs;
  return Object.fromEntries(
    Object.entries(typed as Record<string, unknown>).map(([k, v]) => [k, v === path ? abs : v]),
  );
}

/** Adds an artifact to a draft. @throws UsageError `INVALID_CONFIG` when that runtime already has one. */
export function addSource(
  drafts: Map<string, FunctionDraft>,
  name: string,
  kind: RuntimeKind,
  source: unknown,
  at: string,
): void {
  const d = drafts.get(name) ?? { spec: { name }, origin: {} };
  if (d.origin[kind])
    throw new UsageError(
      'INVALID_CONFIG',
      `${at}: function "${name}" already has a ${kind} artifact (from ${d.origin[kind]}).`,
      { details: { field: at } },
    );
  (d.spec as unknown as Record<string, unknown>)[kind] = source;
  d.origin[kind] = at;
  drafts.set(name, d);
}

/**
 * `{ binary }` for every runtime that takes one and has no artifact yet; `warn` hears of each
 * runtime that keeps the artifact it was given instead (two programs under one name).
 * @throws UsageError `INVALID_CONFIG` when no runtime takes a binary.
 */
export function addBinary(
  drafts: Map<string, FunctionDraft>,
  name: string,
  path: string,
  at: string,
  base: string,
  warn: (text: string) => void = () => undefined,
): void {
  const kinds = binaryKinds();
  if (!kinds.length)
    throw new UsageError('INVALID_CONFIG', `${at}: no registered runtime takes a static binary.`, {
      details: { field: at },
    });
  const taken = drafts.get(name)?.origin ?? {};
  const kept = kinds.filter((k) => taken[k]);
  const added = kinds.filter((k) => !taken[k]);
  for (const kind of added) addSource(drafts, name, kind, checkSource(kind, { binary: path }, name, at, base), at);
  if (kept.length)
    warn(
      `${at}: "${name}" already has a ${kept.join(' and ')} artifact (${kept.map((k) => taken[k]).join(', ')}), so this binary runs on ${added.join(', ') || 'no runtime'} only; one name then stands for two programs, and their figures are not of the same code.`,
    );
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * `--wasm name=path`, `--docker name=image`, `--binary name=path` (repeatable; mixable per name).
 * `warn` hears of a binary that another flag's artifact overrides on some runtime.
 */
export function functionsFromFlags(
  flags: { wasm?: string[]; docker?: string[]; binary?: string[] },
  base = process.cwd(),
  warn?: (text: string) => void,
): FunctionSpec[] {
  const drafts = new Map<string, FunctionDraft>();
  const pairs = (flag: string, values: string[] | undefined) =>
    (values ?? []).map((v) => {
      const eq = v.indexOf('=');
      const name = v.slice(0, eq);
      if (eq < 1 || eq === v.length - 1)
        throw new UsageError(
          'INVALID_ARGUMENT',
          `--${flag} takes name=${flag === 'docker' ? 'image' : 'path'}, got "${v}".`,
        );
      if (!NAME.test(name))
        throw new UsageError(
          'INVALID_ARGUMENT',
          `--${flag}: "${name}" is not a function name (1-63 lower-case letters, digits, - and _, starting with a letter).`,
        );
      return [name, v.slice(eq + 1)] as const;
    });
  for (const [name, path] of pairs('wasm', flags.wasm))
    addSource(drafts, name, 'wasm', checkSource('wasm', path, name, `--wasm ${name}`, base), `--wasm ${name}`);
  for (const [name, image] of pairs('docker', flags.docker))
    addSource(
      drafts,
      name,
      'docker',
      checkSource('docker', { image }, name, `--docker ${name}`, base),
      `--docker ${name}`,
    );
  for (const [name, path] of pairs('binary', flags.binary))
    addBinary(drafts, name, path, `--binary ${name}`, base, warn);
  return [...drafts.values()].map((d) => d.spec);
}
