/**
 * A consumer project for the published-package tests: `npm pack` of this tree, installed with
 * npm into an empty project, as a user installs it.
 *
 * The project gets a package-lock.json cut from this repository's own lock (the packed package's
 * dependency closure plus TypeScript and @types/node, at the versions the repository locks), so
 * npm installs without resolving anything: every tarball it needs is in the npm cache once
 * `npm install` has run in this repository, and `--prefer-offline` takes them from there. A
 * tarball missing from the cache is fetched from the registry; nothing else is asked of it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

type LockEntry = {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  devOptional?: boolean;
  [k: string]: unknown;
};
type Lock = { packages: Record<string, LockEntry> };

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs npm in `cwd` and returns its stdout; the error names the command and shows npm's stderr. */
export async function npm(cwd: string, args: string[], timeoutMs = 300_000): Promise<string> {
  try {
    return (
      await promisify(execFile)('npm', args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })
    ).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${err.stderr ?? err.message}`, { cause: e });
  }
}

/** Where Node would find `name` when required from the package at lock path `from`. */
function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/** The lock entries reachable from `roots` (names resolved at the top level), with dev flags dropped. */
function closure(lock: Lock, roots: string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const queue: Array<[from: string, name: string, optional: boolean]> = roots.map((n) => ['', n, false]);
  while (queue.length) {
    const [from, name, optional] = queue.shift()!;
    const at = resolveIn(lock, from, name);
    if (!at) {
      if (optional) continue; // another platform's optional package, absent from the lock
      throw new Error(`package-lock.json has no ${name} (needed from "${from || 'the root'}"): run npm install first`);
    }
    if (out[at]) continue;
    const { dev: _d, devOptional: _o, ...entry } = lock.packages[at]!;
    out[at] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) queue.push([at, dep, false]);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) queue.push([at, dep, true]);
    for (const dep of Object.keys(entry.peerDependencies ?? {}))
      queue.push([at, dep, entry.peerDependenciesMeta?.[dep]?.optional === true]);
  }
  return out;
}

/** Packs this tree (`npm pack`; `dist/` must be built) into `dir` and returns the tarball's path. */
export async function packThisTree(dir: string): Promise<string> {
  if (!existsSync(join(repoRoot, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first.');
  const out = JSON.parse(
    await npm(repoRoot, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]),
  ) as Array<{ filename: string }>;
  return join(dir, out[0]!.filename);
}

/**
 * Creates a project in a new temporary folder, with the packed package, TypeScript and @types/node
 * installed by npm (`--omit=dev` does not apply: the project's own dependencies are all there is).
 * @returns the project's folder.
 */
export async function installConsumer(tarball: string): Promise<string> {
  const project = mkdtempSync(join(tmpdir(), 'nebula-consumer-'));
  const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as Lock;
  const pkg = JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  ) as LockEntry & { name: string };
  const tools = ['typescript', '@types/node'];
  const dependencies: Record<string, string> = { [pkg.name]: `file:${tarball}` };
  for (const t of tools) dependencies[t] = repoLock.packages[`node_modules/${t}`]!.version!;

  const entries = closure(repoLock, [...Object.keys(pkg.dependencies ?? {}), ...tools]);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const self: LockEntry = { version: pkg.version, resolved: `file:${tarball}`, integrity, license: pkg.license };
  for (const k of [
    'dependencies',
    'optionalDependencies',
    'peerDependencies',
    'peerDependenciesMeta',
    'bin',
    'engines',
  ])
    if (pkg[k]) self[k] = pkg[k];
  const lock = {
    name: 'nebula-consumer',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'nebula-consumer', dependencies }, [`node_modules/${pkg.name}`]: self, ...entries },
  };
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'nebula-consumer', private: true, dependencies }, null, 2),
  );
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await npm(project, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  return project;
}
