import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Nebula, type InvocationRecord } from '../src/index.js';
import { tempDir } from './temp-dir.js';

describe('resultsFile', () => {
  it('appends one parseable record per invocation, failures included, as they happen', async () => {
    const file = join(tempDir('results'), 'sub', 'records.jsonl');
    const nebula = new Nebula({ resultsFile: file });
    const seen: string[] = [];
    nebula.on('invocation:settled', (rec) => {
      // Already on disk when the event fires (records settle in batches: find its own line).
      seen.push(
        readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .find((l) => l.includes(rec.id))!,
      );
      throw new Error('a listener that throws loses nothing');
    });
    const inputs = [10, 'bad', 12];
    const recs: InvocationRecord[] = [];
    for (const input of inputs) recs.push(await nebula.invoke('fib', input as never));
    await nebula.close();

    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    const parsed = lines.map((l) => JSON.parse(l) as InvocationRecord);
    expect(parsed.map((r) => r.id)).toEqual(recs.map((r) => r.id));
    expect(parsed.map((r) => r.ok)).toEqual([true, false, true]);
    expect(parsed[0]).toMatchObject({ function: 'fib', runtime: 'wasm', mode: 'cold', input: 10, result: 55 });
    expect(parsed[1]!.error?.code).toBe('FUNCTION_FAILED');
    expect(typeof parsed[2]!.timing.startupMs).toBe('number');
    expect(seen).toEqual(lines);
  });
});

describe('records survive what the disk and the function throw at them', () => {
  it('returns the record and reports RESULTS_WRITE_FAILED when the results file cannot be written (a full disk)', async () => {
    // /dev/full answers every write with ENOSPC, as a full disk does.
    const nebula = new Nebula({ resultsFile: '/dev/full' });
    const failures: Array<{ code: string; id: string }> = [];
    nebula.on('results:error', (e, rec) => failures.push({ code: e.code, id: rec.id }));
    const rec = await nebula.invoke('fib', 10);
    expect(rec).toMatchObject({ ok: true, result: 55 });
    // The record is written once its energy settles.
    await nebula.settled();
    expect(failures).toEqual([{ code: 'RESULTS_WRITE_FAILED', id: rec.id }]);
    const again = await nebula.invoke('fib', 11, { waitForEnergy: true });
    expect(again.result).toBe(89);
    expect(failures).toHaveLength(2);
    await nebula.close();
  });

  it('keeps a record whose stdout is JSON nested 6,000 deep: returned as text, written to the file, parsed back', async () => {
    const dir = tempDir('deep');
    const src = join(dir, 'deep.c');
    writeFileSync(
      src,
      '#include <stdio.h>\nint main(void){for(int i=0;i<6000;i++)putchar(91);for(int i=0;i<6000;i++)putchar(93);putchar(10);return 0;}\n',
    );
    execFileSync('clang', ['--target=wasm32-wasi', '-O2', src, '-o', join(dir, 'deep.wasm')]);
    const file = join(dir, 'records.jsonl');
    const nebula = new Nebula({ builtins: false, resultsFile: file });
    await nebula.deploy({ name: 'deep', wasm: join(dir, 'deep.wasm') });
    const rec = await nebula.invoke('deep', null);
    await nebula.close();
    expect(rec.ok).toBe(true);
    expect(typeof rec.result).toBe('string');
    expect((rec.result as string).length).toBe(12_000);
    const back = JSON.parse(readFileSync(file, 'utf8').trim()) as InvocationRecord;
    expect(back.id).toBe(rec.id);
    expect(back.result).toBe(rec.result);
  });
});
