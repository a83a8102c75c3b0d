/**
 * An experiment's `preinit` setting with the real Wizer: `both` runs a function with an initialiser
 * beside its pre-initialised twin (checked against it, compared with it, side by side in the
 * reports) and one without it once; `false` runs everything at start; afterwards every function is
 * deployed as before.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { Nebula, type InvocationRecord } from '../../../src/index.js';
import { Experiment, renderReports, resolveConfig } from '../../../src/experiment/index.js';

const WRITE = `(import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))`;
const PRINT = (value: string) => `(i32.store8 (i32.const 100) (i32.add (i32.const 48) ${value}))
  (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 1))
  (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))`;
/** Start-up work that sets a value (unless a snapshot did), then prints it. */
const TABLE = `(module ${WRITE} (memory (export "memory") 1) (global $v (mut i32) (i32.const 0)) (global $ready (mut i32) (i32.const 0))
  (func $init (export "wizer.initialize") (global.set $v (i32.const 7)) (global.set $ready (i32.const 1)))
  (func (export "_start") (if (i32.eqz (global.get $ready)) (then (call $init))) ${PRINT('(global.get $v)')}))`;
const PLAIN = `(module ${WRITE} (memory (export "memory") 1) (func (export "_start") ${PRINT('(i32.const 3)')}))`;

let table: Uint8Array;
let plain: Uint8Array;
const dirs: string[] = [];
const out = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nebula-exp-preinit-'));
  dirs.push(dir);
  return dir;
};
beforeAll(async () => {
  [table, plain] = await Promise.all([parse(TABLE), parse(PLAIN)]);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function withNebula(run: (nebula: Nebula) => Promise<void>): Promise<void> {
  const cacheDir = out();
  const nebula = new Nebula({ builtins: false, meter: null, wasm: { cacheDir, workers: 1 } });
  try {
    await nebula.deploy([
      { name: 'table', wasm: table },
      { name: 'plain', wasm: plain },
    ]);
    await run(nebula);
  } finally {
    await nebula.close();
  }
}

const records = (dir: string) =>
  readFileSync(join(dir, 'records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as InvocationRecord);

describe("an experiment's preinit", () => {
  it("'both' runs a function without and with pre-initialisation, side by side, and puts everything back", async () => {
    await withNebula(async (nebula) => {
      const dir = out();
      const exp = new Experiment(nebula, {
        functions: ['table', 'plain'],
        runtimes: ['wasm'],
        preinit: 'both',
        repetitions: 3,
        warmup: 1,
        micro: false,
        outDir: dir,
      });
      const notes: string[] = [];
      exp.on('note', (t) => notes.push(t));
      const result = await exp.run();
      expect(result.cells.map((c) => [c.function, c.variantOf])).toEqual([
        ['table', undefined],
        ['table-preinit', 'table'],
        ['plain', undefined],
      ]);
      expect(notes).toContain(
        'plain runs without pre-initialisation only: it exports no initialiser (wizer.initialize).',
      );
      const recs = records(dir);
      expect(new Set(recs.map((r) => `${r.function}:${String(r.preinitialized)}`))).toEqual(
        new Set(['table:false', 'table-preinit:true', 'plain:false']),
      );
      // The twin's outputs are checked against the function's: one group for both.
      expect(result.outputCheck).toEqual({ groups: 2, records: 9, mismatches: [] });
      expect(result.snapshots).toEqual([
        {
          function: 'table-preinit',
          runtime: 'wasm',
          snapshot: expect.objectContaining({ initFunc: 'wizer.initialize' }),
        },
      ]);
      const md = renderReports(dir);
      const text = readFileSync(md.markdown, 'utf8');
      expect(text).toContain('## Pre-initialisation');
      expect(text).toMatch(/\| table \| null \| Wasm \| cold \| .+ → .+ \| .+ → .+ \| .+x \|/);
      expect(readFileSync(md.html, 'utf8')).toContain('without and with pre-initialisation');
      // Afterwards: no twin, and the function deployed as it was (pre-initialised, as 'auto' does).
      expect(nebula.has('table-preinit')).toBe(false);
      expect(nebula.spec('table').preinit).toBeUndefined();
      expect(await nebula.invoke('table', null)).toMatchObject({ result: 7, preinitialized: true });
    });
  });

  it('false runs every function with its start-up work at start, and the report lists no snapshot', async () => {
    await withNebula(async (nebula) => {
      const dir = out();
      const result = await new Experiment(nebula, {
        functions: ['table'],
        runtimes: ['wasm'],
        preinit: false,
        repetitions: 2,
        warmup: 0,
        micro: false,
        outDir: dir,
      }).run();
      expect(records(dir).map((r) => r.preinitialized)).toEqual([false, false]);
      expect(result.snapshots).toBeUndefined();
      expect(readFileSync(renderReports(dir).markdown, 'utf8')).not.toContain('## Pre-initialisation');
      expect(await nebula.invoke('table', null)).toMatchObject({ preinitialized: true });
    });
  });

  it('refuses a setting it does not know, and a twin whose name is taken', async () => {
    expect(() => resolveConfig({ outDir: 'x', preinit: 'yes' as never })).toThrow(/preinit must be/);
    await withNebula(async (nebula) => {
      await nebula.deploy({ name: 'table-preinit', wasm: plain });
      const exp = new Experiment(nebula, { functions: ['table'], runtimes: ['wasm'], preinit: 'both', outDir: out() });
      await expect(exp.run()).rejects.toMatchObject({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining('"table-preinit", a name already taken'),
      });
      expect(nebula.spec('table').preinit).toBeUndefined();
    });
  });
});
