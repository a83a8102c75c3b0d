/**
 * The user's own functions, from `--<kind> name=...` and `--binary name=...` flags or a config
 * file's `functions`, turned into function specs. What each runtime takes (its flag, its files,
 * whether it runs a static binary) is asked of its descriptor, never listed here.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { descriptorOf, runtimeDescriptors, type RuntimeKind } from '../runtimes/registry.js';
import type { FunctionSpec } from '../types.js';

/** A user function being assembled: its name, artifacts per runtime, and where each came from (for messages). */
export interface FunctionDraft {
  spec: FunctionSpec;
  /** Where each artifact was given (`--wasm`, `functions[0].docker`), by kind. */
  origin: Partial<Record<RuntimeKind, string>>;
}

/**
 * Checks one runtime's source with its descriptor, resolves each file path it names (against
 * `base`) and checks that the file exists.
 * @throws UsageError `INVALID_CONFIG` naming `at`.
 */
export function checkSource(kind: RuntimeKind, source: unknown, name: string, at: string, base: string): unknown {
  const { source: d } = descriptorOf(kind);
  let typed: unknown;
  try {
    typed = d.validate(source, name);
  } catch (e) {
    throw new UsageError('INVALID_CONFIG', `${at}: ${(e as Error).message}`, { details: { field: at } });
  }
  return (
    d.files?.(typed, (path) => {
      const abs = resolve(base, path);
      if (!existsSync(abs))
        throw new UsageError('INVALID_CONFIG', `${at}: no file at ${abs}.`, { details: { field: at } });
      return abs;
    }) ?? typed
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
 * The source of a static binary for every runtime that runs one and has no artifact yet; `warn`
 * hears of each runtime that keeps the artifact it was given instead (two programs under one name).
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
  const takers = runtimeDescriptors().filter((d) => d.source.binary !== undefined);
  if (!takers.length)
    throw new UsageError('INVALID_CONFIG', `${at}: no registered runtime takes a static binary.`, {
      details: { field: at },
    });
  const taken = drafts.get(name)?.origin ?? {};
  const kept = takers.filter((d) => taken[d.kind]).map((d) => d.kind);
  const added = takers.filter((d) => !taken[d.kind]);
  for (const { kind, source } of added)
    addSource(drafts, name, kind, checkSource(kind, source.binary!(path), name, at, base), at);
  if (kept.length)
    warn(
      `${at}: "${name}" already has a ${kept.join(' and ')} artifact (${kept.map((k) => taken[k]).join(', ')}), so this binary runs on ${added.map((d) => d.kind).join(', ') || 'no runtime'} only; one name then stands for two programs, and their figures are not of the same code.`,
    );
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * `--<kind> NAME=VALUE` for each runtime with a flag (`--wasm NAME=PATH`, `--docker NAME=IMAGE`),
 * and `--binary NAME=PATH` (repeatable; mixable per name). `warn` hears of a binary that another
 * flag's artifact overrides on some runtime.
 */
export function functionsFromFlags(
  flags: Partial<Record<string, string[]>>,
  base = process.cwd(),
  warn?: (text: string) => void,
): FunctionSpec[] {
  const drafts = new Map<string, FunctionDraft>();
  const pairs = (flag: string, value: string, values: string[] | undefined) =>
    (values ?? []).map((v) => {
      const eq = v.indexOf('=');
      const name = v.slice(0, eq);
      if (eq < 1 || eq === v.length - 1)
        throw new UsageError('INVALID_ARGUMENT', `--${flag} takes NAME=${value}, got "${v}".`);
      if (!NAME.test(name))
        throw new UsageError(
          'INVALID_ARGUMENT',
          `--${flag}: "${name}" is not a function name (1-63 lower-case letters, digits, - and _, starting with a letter).`,
        );
      return [name, v.slice(eq + 1)] as const;
    });
  for (const { kind, source } of runtimeDescriptors()) {
    if (!source.flag) continue;
    for (const [name, value] of pairs(kind, source.flag.value, flags[kind])) {
      const at = `--${kind} ${name}`;
      addSource(drafts, name, kind, checkSource(kind, source.flag.source(value), name, at, base), at);
    }
  }
  for (const [name, path] of pairs('binary', 'PATH', flags.binary))
    addBinary(drafts, name, path, `--binary ${name}`, base, warn);
  return [...drafts.values()].map((d) => d.spec);
}

/** The `--<kind> NAME=VALUE` flags of the registered runtimes, for the help text: one line each. */
export function sourceFlagsHelp(): string[] {
  return runtimeDescriptors().flatMap(({ kind, source }) =>
    source.flag ? [`  ${`--${kind} NAME=${source.flag.value}`.padEnd(22)} ${source.flag.help} (repeatable)`] : [],
  );
}
