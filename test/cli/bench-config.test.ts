import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerArch } from '../../src/builtins.js';
import type { ExperimentResult } from '../../src/experiment/index.js';
import { packageRoot } from '../../src/paths.js';
import { dockerAvailable } from '../runtimes/docker/engine.js';
import { nebula, pool } from './run-cli.js';
import { tempDir } from '../temp-dir.js';

const fns = join(packageRoot(), 'functions');
const bin = (name: string) => join(fns, 'bin', `linux-${dockerArch()}`, name);
const docker = dockerAvailable();

function configFile(config: unknown): string {
  const dir = tempDir('cfg');
  const file = join(dir, 'nebula.config.json');
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

describe('nebula bench with your own functions', () => {
  it('ships a JSON Schema equal to the one it checks config files with', async () => {
    const r = await nebula('bench', '--config-schema');
    const shipped = readFileSync(join(packageRoot(), 'docs', 'nebula.config.schema.json'), 'utf8');
    // After a runtime joins the registry: node dist/cli/main.js bench --config-schema > docs/nebula.config.schema.json
    expect(JSON.parse(r.out), 'docs/nebula.config.schema.json is out of date').toEqual(JSON.parse(shipped));
  });

  it('refuses a bad config file in one line naming the field and what is wrong, exit 2', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ repetitions: 0 }, /: repetitions must be a whole number >= 1, got 0\.$/],
      [{ repetitions: 3, bogus: 1 }, /: bogus is not a known field; known: \$schema, functions, /],
      [{ repetiton: 3 }, /: repetiton is not a known field \(did you mean repetitions\?\)/],
      [{ modes: ['hot'] }, /: modes\[0\] must be one of cold, prewarmed, warm, got "hot"/],
      [
        { functions: ['fob'] },
        /: functions\[0\] must be one of fib, exponential, factorial, prime, hash, primecount, got "fob" \(did you mean fib\?\)/,
      ],
      [
        { functions: [{ name: 'mine', wsam: 'a.wasm' }] },
        /: functions\[0\]\.wsam is not a known field \(did you mean wasm\?\)/,
      ],
      [
        { functions: [{ name: 'mine', docker: { imag: 'x' } }] },
        /: functions\[0\]\.docker: Function "mine": "docker": unknown key "imag" \(did you mean "image"\?\); known: image, tarball, binary\.$/,
      ],
      [
        { functions: [{ name: 'mine', wasm: 'missing.wasm' }] },
        /: functions\[0\]\.wasm: no file at .*missing\.wasm\.$/,
      ],
      [
        { functions: [{ name: 'mine' }] },
        /: functions\[0\] \(mine\) has no artifact and is not a built-in: give wasm, docker, process or binary/,
      ],
      [{ functions: [{ name: 'Mine', wasm: 'a.wasm' }] }, /: functions\[0\]\.name must be 1-63 lower-case letters/],
      [
        { functions: [{ name: 'fib', inputs: 'thirty' }] },
        /: functions\[0\]\.inputs must be a list \(not empty\), got "thirty"/,
      ],
      [
        { meter: 'gude:/x' },
        /: meter must be estimate, rapl, gude:\/\/HOST\[:PORT\]\[\/portN\|\/lineN\], none, got "gude:\/x"/,
      ],
      [{ meter: 'gude://' }, /: meter: Meter "gude:\/\/": it needs the PDU's host name or address/],
      [{ timeoutMs: -5 }, /: timeoutMs must be a number > 0 up to 2147483647, got -5/],
      [{ batchWindowMs: true }, /: batchWindowMs must be a number > 0, or false, got true/],
      [{ preinit: 'maybe' }, /: preinit must be one of deployed, auto, true, false, both, got "maybe"/],
      [
        { functions: [{ name: 'mine', wasm: join(fns, 'wasm', 'fib.wasm'), preinit: 'always' }] },
        /: functions\[0\]\.preinit must be one of auto, true, false, got "always"/,
      ],
      [
        { functions: [{ name: 'fib', preinit: false }] },
        /: functions\[0\] \(fib\) sets limits, grants, a description or pre-initialisation but no artifact/,
      ],
      ['{"repetitions": 3,', /nebula\.config\.json: is not JSON \(it ends too early\)/],
      [
        '{\n  "repetitions": 3,\n  "seed": x\n}',
        /nebula\.config\.json: is not JSON \(a syntax error at line 3, column 11\)/,
      ],
      [[], /nebula\.config\.json: is not a nebula config: a config is a JSON object, this is an array/],
      ['{"repetitions": 1e400}', /: repetitions must be a whole number >= 1, got Infinity \(not a finite number\)\.$/],
      ['{"batchWindowMs": 1e400}', /: batchWindowMs must be .*, got Infinity \(not a finite number\)\.$/],
    ];
    const runs = await pool(cases, 4, ([config]) => nebula('bench', '--config', configFile(config), '--dry-run'));
    cases.forEach(([config, message], i) => {
      const r = runs[i]!;
      expect(r.code, JSON.stringify(config)).toBe(2);
      expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
      expect(r.err.trim()).toMatch(/^nebula: INVALID_CONFIG: \S*nebula\.config\.json: /);
      expect(r.err.trim()).toMatch(message);
    });
  });

  it('never shows a byte of a file that is not a config, and reads only regular files the size of a config', async () => {
    const secret = 'root:$6$s3cretHash:19000:0:99999:7:::';
    const dir = mkdtempSync(join(tmpdir(), 'nebula-cfg-'));
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"seed": 1, "out": "${'x'.repeat(2 << 20)}"}`);
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const cases: Array<[string, RegExp]> = [
      [
        file('shadow', `${secret}\n`),
        /: is not JSON \(a syntax error at line 1, column 1\); a config is a JSON object\.$/,
      ],
      [
        file('user.json', `{"user": "${secret}"}`),
        /: is not a nebula config: none of its 1 fields is one of \$schema, /,
      ],
      [file('string.json', `"${secret}"`), /: is not a nebula config: a config is a JSON object, this is a string\.$/],
      ['/dev/zero', /\/dev\/zero: is not a regular file/],
      [fifo, /fifo: is not a regular file/],
      [dir, /: is not a regular file/],
      [big, /big\.json: is \d+ bytes, over the 1048576 a config file may have/],
      [join(dir, 'missing.json'), /missing\.json: cannot be read \(no such file\)/],
    ];
    try {
      const runs = await pool(cases, 4, ([file]) => nebula('bench', '--config', file, '--dry-run'));
      cases.forEach(([file, message], i) => {
        const r = runs[i]!;
        expect(r.code, file).toBe(2);
        expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
        expect(r.err.trim()).toMatch(message);
        expect(r.err).not.toContain('s3cret');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plans a config file: its functions with paths from the file, built-ins with their inputs, flags winning', async () => {
    const file = configFile({
      $schema: '../docs/nebula.config.schema.json',
      functions: [
        { name: 'mine', wasm: join(fns, 'wasm', 'fib.wasm'), binary: bin('fib'), inputs: [12, 13] },
        'prime',
        { name: 'hash', inputs: [8] },
      ],
      modes: ['cold', 'warm'],
      repetitions: 7,
      meter: 'none',
    });
    const r = await nebula('bench', '--config', file, '--repetitions', '3', '--dry-run', '--json');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as {
      config: ExperimentResult['config'];
      functions: Array<Record<string, unknown>>;
      meter: string;
    };
    expect(plan.config.functions).toEqual(['mine', 'prime', 'hash']);
    expect(plan.config.inputs).toMatchObject({ mine: [12, 13], hash: [8], prime: [20000] });
    expect(plan.config.repetitions).toBe(3);
    expect(plan.config.modes).toEqual(['cold', 'warm']);
    expect(plan.meter).toBe('none');
    // --binary went to every runtime that takes a static binary (asked of the registry).
    expect(plan.functions).toEqual([
      {
        name: 'mine',
        wasm: join(fns, 'wasm', 'fib.wasm'),
        docker: { binary: bin('fib') },
        process: { binary: bin('fib') },
      },
    ]);
  });

  it('plans pre-initialisation from a config file and --preinit, the flag winning', async () => {
    const file = configFile({
      functions: [
        {
          name: 'mine',
          wasm: join(fns, 'wasm', 'primecount.wasm'),
          preinit: true,
          initFunc: 'wizer.initialize',
          checkInput: 1000,
          grants: { initWasi: false },
        },
      ],
      preinit: 'both',
      meter: 'none',
    });
    const plans = await pool([[], ['--preinit', 'false']], 2, (flags) =>
      nebula('bench', '--config', file, ...flags, '--dry-run', '--json'),
    );
    const [fromFile, fromFlag] = plans.map((r) => {
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as { config: ExperimentResult['config']; functions: Array<Record<string, unknown>> };
    });
    expect(fromFile!.config.preinit).toBe('both');
    expect(fromFile!.functions[0]).toMatchObject({
      preinit: true,
      initFunc: 'wizer.initialize',
      checkInput: 1000,
      grants: { initWasi: false },
    });
    expect(fromFlag!.config.preinit).toBe(false);
    const text = await nebula('bench', '--config', file, '--dry-run');
    expect(text.out).toContain('pre-initialisation: each function without and with (NAME-preinit)');
    const bad = await nebula('bench', '--preinit', 'maybe', '--dry-run');
    expect([bad.code, bad.err.trim()]).toEqual([
      2,
      'nebula: --preinit is deployed, auto, true, false or both, got "maybe".',
    ]);
  });

  it('runs your own wasm function beside a built-in and checks their outputs agree across runtimes', async () => {
    const out = join(tempDir('own'), 'run');
    const runtimes = docker ? 'wasm,docker' : 'wasm';
    const r = await nebula(
      'bench',
      '--wasm',
      `mine=${join(fns, 'wasm', 'fib.wasm')}`,
      '--binary',
      `mine=${bin('fib')}`,
      '--functions',
      'mine,prime',
      '--inputs',
      'mine=15,prime=30',
      '--runtimes',
      runtimes,
      '--repetitions',
      '2',
      '--warmup',
      '0',
      '--meter',
      'none',
      '--no-micro',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ExperimentResult;
    expect(summary.cells.map((c) => `${c.function} ${c.runtime} ${c.ok}`)).toEqual(
      docker ? ['mine wasm 2', 'mine docker 2', 'prime wasm 2', 'prime docker 2'] : ['mine wasm 2', 'prime wasm 2'],
    );
    expect(summary.outputCheck.mismatches).toEqual([]);
  });

  (docker ? it : it.skip)(
    'flags a function whose output differs between runtimes, in the summary, the reports, the CSV and the terminal',
    async () => {
      const out = join(tempDir('odd'), 'run');
      const csv = join(out, '..', 'records.csv');
      // The same name, but prime's binary on Docker: fib(20) = 6765, the 20th prime is 71.
      const r = await nebula(
        'bench',
        '--wasm',
        `odd=${join(fns, 'wasm', 'fib.wasm')}`,
        '--docker',
        'odd=nebula-faas/none:0',
        '--inputs',
        'odd=20',
        '--runtimes',
        'wasm',
        '--repetitions',
        '1',
        '--warmup',
        '0',
        '--meter',
        'none',
        '--no-micro',
        '--dry-run',
      );
      expect(r.code).toBe(0); // an image is only looked up when deployed; --runtimes wasm leaves it out
      const b = await nebula(
        'bench',
        '--wasm',
        `odd=${join(fns, 'wasm', 'fib.wasm')}`,
        '--binary',
        `odd=${bin('prime')}`,
        '--inputs',
        'odd=20',
        '--runtimes',
        'wasm,docker',
        '--repetitions',
        '2',
        '--warmup',
        '0',
        '--meter',
        'none',
        '--no-micro',
        '--out',
        out,
        '--export-csv',
        csv,
      );
      expect(b.code, b.err).toBe(0);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ExperimentResult;
      expect(summary.outputCheck.mismatches).toHaveLength(1);
      const m = summary.outputCheck.mismatches[0]!;
      expect(m.recordIds).toHaveLength(2);
      expect([m.expected, m.got].sort((x, y) => Number(x) - Number(y))).toEqual([71, 6765]);
      expect(b.out).toContain('OUTPUTS DIFFER');
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Output check: OUTPUTS DIFFER');
      const rows = readFileSync(csv, 'utf8').trim().split('\r\n');
      const col = rows[0]!.split(',').indexOf('outputMismatch');
      expect(rows.slice(1).filter((row) => row.split(',')[col] === 'true')).toHaveLength(2);
    },
  );
});
