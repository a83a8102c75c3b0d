import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Nebula, type InvocationRecord } from '../src/index.js';

describe('resultsFile', () => {
  it('appends one parseable record per invocation, failures included, as they happen', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nebula-results-')), 'sub', 'records.jsonl');
    const nebula = new Nebula({ resultsFile: file });
    const seen: string[] = [];
    nebula.on('invocation:end', (rec) => {
      // Already on disk when the event fires.
      seen.push(readFileSync(file, 'utf8').trim().split('\n').at(-1)!);
      throw new Error('a listener that throws loses nothing');
    });
    const inputs = [10, 'bad', 12];
    const recs: InvocationRecord[] = [];
    for (const input of inputs) recs.push(await nebula.invoke('fib', input));
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
