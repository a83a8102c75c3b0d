/** Runs the built `nebula` command as a user would, without blocking the test worker. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

export const main = join(packageRoot(), 'dist', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

/** `nebula ...args`, with its exit code and both outputs (never a TTY). */
export function nebula(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { encoding: 'utf8', timeout: 240_000, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : null
          : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

/** Runs `fn` over `items`, `limit` at a time. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
