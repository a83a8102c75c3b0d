/**
 * Files the CLI writes on request (`--export-csv`, `--markdown`, `--html`): each path is checked
 * before any work, so a run never fails at its end over a missing folder, and a run's own files
 * (`RUN_FILES`: its records, summary, reports and CSV, a replay's kept.jsonl) are never replaced by an
 * export.
 */
import { realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { canWriteIn, RUN_FILES } from '../experiment/run-folder.js';
import { NebulaError } from '../errors.js';
import { CliError } from './args.js';

/** A file a flag asks for. */
export interface OutputFile {
  /** The flag that names it (`--export-csv`), for messages. */
  flag: string;
  path: string;
}

/** What the paths are checked against. */
export interface OutputCheckOptions {
  /** Replace an existing file (`--force`); a run's own files stay refused. */
  force: boolean;
  /** Run folders being made or read; their own files are never written, nor those of any folder holding a run. */
  runDirs: readonly string[];
}

/** The absolute path with symbolic links resolved as far as the path exists. */
function real(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(real(parent), basename(abs));
  }
}

function exists(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Checks every output before any work: its folder exists and can be written, it is not a folder
 * or a device, it is none of the run folders' own files, no two outputs name one file, and it
 * does not exist yet unless `force`.
 * @throws CliError (exit 2) naming the flag, the path and what to do.
 */
export function checkOutputFiles(outputs: readonly OutputFile[], options: OutputCheckOptions): void {
  const runDirs = new Set(options.runDirs.map(real));
  const names: readonly string[] = Object.values(RUN_FILES);
  const holdsRun = (dir: string) =>
    runDirs.has(dir) || [RUN_FILES.run, RUN_FILES.records, RUN_FILES.summary].some((f) => exists(join(dir, f)));
  const seen = new Map<string, string>();
  for (const { flag, path } of outputs) {
    const bad = (what: string) => new CliError(`${flag} ${path}: ${what}`);
    if (!path || path.endsWith('/')) throw bad('names a folder; give a file name.');
    const target = real(path);
    if (names.includes(basename(target)) && holdsRun(dirname(target)))
      throw bad(`is one of a run's own files (${names.join(', ')}), which are never replaced; choose another name.`);
    const other = seen.get(target);
    if (other) throw bad(`is also the file of ${other}; give each its own file.`);
    seen.set(target, flag);
    const folder = dirname(target);
    // A file inside the run folder being made: that folder is created by the run itself.
    if (!runDirs.has(folder) || exists(folder)) {
      const dir = exists(folder);
      if (!dir) throw bad(`the folder ${dirname(resolve(path))} does not exist; create it first.`);
      if (!dir.isDirectory()) throw bad(`${dirname(resolve(path))} is not a folder.`);
      if (!canWriteIn(folder))
        throw bad(
          `the folder ${dirname(resolve(path))} cannot be written (no permission, or a read-only file system).`,
        );
    }
    const file = exists(target);
    if (!file) continue;
    if (file.isDirectory()) throw bad('is a folder; give a file name.');
    if (!file.isFile()) throw bad('is not a regular file (a device, a pipe or a socket); give a file name.');
    if (!options.force) throw bad('already exists; choose another name, or pass --force to replace it.');
  }
}

/**
 * Writes an output checked by {@link checkOutputFiles}: a new file, or with `force` a replaced
 * one. Without `force` a file that appeared since the check is refused, never overwritten.
 * @throws NebulaError `RESULTS_WRITE_FAILED` when it cannot be written (the run's own files are already written).
 */
export function writeOutputFile(output: OutputFile, text: string, force: boolean): void {
  try {
    writeFileSync(output.path, text, { flag: force ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NebulaError(
      'RESULTS_WRITE_FAILED',
      `${output.flag} ${output.path}: ${code === 'EEXIST' ? 'appeared while the run went on; it was left as it is (pass --force to replace it)' : `cannot be written (${code ?? (e as Error).message})`}.`,
      { cause: e },
    );
  }
}
