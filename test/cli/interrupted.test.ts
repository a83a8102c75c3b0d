import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../../src/experiment/index.js';
import { main, nebula } from './run-cli.js';
import { tempDir } from '../temp-dir.js';

const lineCount = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;

/** Starts a long wasm bench into `dir`; resolves once `records` lines are on disk. */
function longBench(dir: string, records: number) {
  const p = spawn(
    process.execPath,
    [
      main,
      'bench',
      '--functions',
      'fib',
      '--runtimes',
      'wasm',
      '--inputs',
      'fib=10',
      '--repetitions',
      '100000',
      '--warmup',
      '0',
      '--meter',
      'none',
      '--no-micro',
      '--out',
      dir,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  p.stdout.on('data', (b) => (out += b));
  p.stderr.on('data', (b) => (err += b));
  const exited = new Promise<number | null>((resolve) =>
    p.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? -9 : null))),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (lineCount(join(dir, 'records.jsonl')) >= records) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`bench exited early: ${err}`));
    });
  });
  return { p, ready, exited, output: () => ({ out, err }) };
}

describe('a bench that is stopped', () => {
  it('killed with -9 midway: its records are intact and nebula report makes a report from them', async () => {
    const dir = join(tempDir('kill'), 'run');
    const b = longBench(dir, 20);
    await b.ready;
    b.p.kill('SIGKILL');
    expect(await b.exited).toBe(-9);
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    expect(existsSync(join(dir, 'run.json'))).toBe(true);
    const n = lineCount(join(dir, 'records.jsonl'));
    appendFileSync(join(dir, 'records.jsonl'), '{"id":"half-writ'); // as a crash mid-write leaves it
    const r = await nebula('report', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${n} records (an interrupted run: partial results).`);
    expect(r.out).toContain('note: This run did not finish (no summary.json)');
    expect(r.out).toContain('note: 1 line of records.jsonl could not be read');
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('# nebula-faas experiment (interrupted: partial results)');
    expect(md).toMatch(new RegExp(`\\| fib \\| 10 \\| Wasm \\| cold \\| ${n} \\|`));
    // The folder is taken: a new bench into it is refused rather than mixed with it.
    const again = await nebula('bench', '--functions', 'fib', '--runtimes', 'wasm', '--meter', 'none', '--out', dir);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already holds');
  });

  it('stopped with SIGTERM: handled like Ctrl-C, the summary and reports are written, exit 143', async () => {
    const dir = join(tempDir('term'), 'run');
    const b = longBench(dir, 10);
    await b.ready;
    b.p.kill('SIGTERM');
    expect(await b.exited).toBe(143);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ExperimentResult;
    expect(summary.interrupted).toBe(true);
    expect(summary.cells[0]!.ok).toBe(lineCount(join(dir, 'records.jsonl')));
    const { out, err } = b.output();
    expect(err).toContain('Stopping after the current invocation');
    expect(out).toContain('(INTERRUPTED: partial results)');
    expect(out).toContain(join(dir, 'report.html'));
    // Piped output never holds carriage returns or escape codes.
    // eslint-disable-next-line no-control-regex -- ESC is the character looked for
    expect(out + err).not.toMatch(/[\r\x1b]/);
  });
});
