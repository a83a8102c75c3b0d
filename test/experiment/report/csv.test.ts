import { describe, expect, it } from 'vitest';
import { recordsToCsv } from '../../../src/experiment/report/csv.js';
import { record, WASM_COLD } from '../fixtures.js';

describe('the CSV export', () => {
  it('writes one row per record with flat columns, JSON for inputs and results, and quotes what needs it', () => {
    const a = record({ ...WASM_COLD, input: { n: 5, s: 'a,b' } }, 0.1, 2, 1e-6, 'say "hi"');
    const b = record(WASM_COLD, 0.2, 3, null, 7);
    const lines = recordsToCsv([a, b], new Set([b.id])).split('\r\n');
    const head = lines[0]!.split(',');
    expect(head.slice(0, 6)).toEqual(['id', 'function', 'runtime', 'mode', 'sandbox', 'input']);
    expect(head).toEqual(
      expect.arrayContaining([
        'timing.startupMs',
        'timing.execMs',
        'energy.isolatedEnergyWh',
        'resources.cpuMs',
        'resources.maxMemoryBytes',
        'resources.cpuSource',
        'outputMismatch',
      ]),
    );
    expect(lines).toHaveLength(4); // header, two rows, the final CRLF
    expect(lines[1]).toContain(`${a.id},fib,wasm,cold,fresh,"{""n"":5,""s"":""a,b""}",true,"""say \\""hi\\"""""`);
    const row = lines[2]!.split(',');
    expect(row[head.indexOf('timing.startupMs')]).toBe('0.2');
    expect(row[head.indexOf('energy.isolatedEnergyWh')]).toBe('');
    expect(row[head.indexOf('outputMismatch')]).toBe('true');
    expect(row[head.indexOf('resources.cpuMs')]).toBe(String(b.resources.cpuMs));
    expect(row[head.indexOf('resources.maxMemoryBytes')]).toBe(String(1.125 * 2 ** 20));
  });
});
