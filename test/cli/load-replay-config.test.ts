/** `nebula load --config` and `nebula replay --config`: the files' fields, flags over them, mistakes in one line, the shipped examples. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { tempDir } from '../temp-dir.js';
import { nebula, pool } from './run-cli.js';

const dir = tempDir('load-replay-config');
const examples = join(packageRoot(), 'examples');

function configFile(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

interface LoadDryRun {
  spec: {
    functions: string[];
    inputs: Record<string, unknown>;
    runtimes: string[];
    modes: string[];
    rates: number[];
    arrivals: string;
    durationMs: number;
    stopP99Ms: number;
    kneeP99Ms: number;
    maxInFlight: number;
    outDir: string;
  };
  meter: string;
}

interface ReplayDryRun {
  trace: { path: string; functions: number };
  mapping: Record<string, { function: string; input: unknown }>;
  policies: string[];
  runtimes: string[];
  speed: number;
  meter: string;
  outDir: string;
}

describe('nebula load --config', () => {
  it('reads every field of the file, and a flag overrides its field', async () => {
    const file = configFile('load.json', {
      functions: [{ name: 'fib', inputs: [12] }, 'prime'],
      runtimes: ['wasm'],
      modes: ['prewarmed'],
      rates: [40, 20],
      arrivals: 'poisson',
      durationMs: 1500,
      stopP99Ms: 300,
      kneeP99Ms: 5,
      maxInFlight: 7,
      meter: 'none',
      out: 'results/load',
    });
    const r = await nebula('load', '--config', file, '--dry-run', '--json');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as LoadDryRun;
    expect(plan.spec).toMatchObject({
      functions: ['fib', 'prime'],
      runtimes: ['wasm'],
      modes: ['prewarmed'],
      rates: [20, 40],
      arrivals: 'poisson',
      durationMs: 1500,
      stopP99Ms: 300,
      kneeP99Ms: 5,
      maxInFlight: 7,
      outDir: join(dir, 'results', 'load'),
    });
    expect(plan.spec.inputs.fib).toBe(12);
    expect(plan.meter).toBe('none');

    const over = await nebula('load', '--config', file, '--rate', '30/s', '--duration', '2s', '--dry-run', '--json');
    expect(over.code, over.err).toBe(0);
    const p = (JSON.parse(over.out) as LoadDryRun).spec;
    expect([p.rates, p.durationMs, p.kneeP99Ms]).toEqual([[30], 2000, 5]);
  });

  it('refuses a bad file in one line naming the field, exit 2', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ durationMS: 10 }, /: durationMS is not a known field \(did you mean durationMs\?\)/],
      [{ rates: [0] }, /: rates\[0\] must be a number > 0/],
      [{ rate: 10, rates: [20] }, /: give rate or rates, not both\./],
      [{ arrivals: 'bursty' }, /: arrivals must be one of constant, poisson/],
      [{ rates: [10], repetitions: 3 }, /: repetitions is not a known field/],
      [{ functions: [{ name: 'fib', inputs: [1, 2] }] }, /"fib" has 2 inputs; a load run takes one per function/],
      ['[1]', /is not a nebula config: a config is a JSON object, this is an array/],
    ];
    const runs = await pool(cases, 4, ([config]) =>
      nebula(
        'load',
        '--config',
        configFile(`bad-${cases.findIndex((c) => c[0] === config)}.json`, config),
        '--dry-run',
      ),
    );
    runs.forEach((r, i) => {
      expect(r.code, `${JSON.stringify(cases[i]![0])}: ${r.err}`).toBe(2);
      expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
      expect(r.err).toMatch(cases[i]![1]);
    });
  });

  it('prints its schema', async () => {
    const r = await nebula('load', '--config-schema');
    expect(r.code, r.err).toBe(0);
    const schema = JSON.parse(r.out) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['rates', 'durationMs', 'functions', 'out']));
  });

  it('runs the shipped examples/load.config.json, its flags shortening it', async () => {
    const out = join(dir, 'load-example');
    const r = await nebula(
      'load',
      '--config',
      join(examples, 'load.config.json'),
      '--rates',
      '20/s',
      '--duration',
      '1s',
      '--meter',
      'none',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const { result } = JSON.parse(r.out) as {
      result: {
        results: Array<{ function: string; runtime: string; ratePerS: number; ok: number; scheduled: number }>;
      };
    };
    expect(result.results.map((s) => [s.function, s.runtime, s.ratePerS])).toEqual([
      ['fib', 'wasm', 20],
      ['prime', 'wasm', 20],
    ]);
    for (const s of result.results) expect(s.ok).toBe(s.scheduled);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  });
});

describe('a config file given to the wrong command', () => {
  it('is refused in one line saying whose file it is and which file the command takes, exit 2', async () => {
    const bench = configFile('bench.config.json', {
      functions: ['fib'],
      runtimes: ['wasm'],
      modes: ['cold'],
      repetitions: 5,
    });
    const load = join(examples, 'load.config.json');
    const replay = join(examples, 'replay.config.json');
    const cases: Array<[string, string, string]> = [
      ['load', bench, '`nebula bench`'],
      ['replay', bench, '`nebula bench`'],
      ['replay', load, '`nebula load`'],
      ['load', replay, '`nebula replay`'],
      ['bench', load, '`nebula load`'],
      ['bench', replay, '`nebula replay`'],
      // Fields both load and replay take, and bench does not.
      ['bench', configFile('in-flight.json', { maxInFlight: 8 }), '`nebula load` or `nebula replay`'],
    ];
    const runs = await pool(cases, 4, ([command, file]) => nebula(command, '--config', file, '--dry-run'));
    runs.forEach((r, i) => {
      const [command, file, owner] = cases[i]!;
      const docs = command === 'bench' ? 'docs/cli.md, A config file' : 'docs/load.md, Config files';
      expect(r.code, `${command} ${file}: ${r.err}`).toBe(2);
      expect(r.err.trim()).toBe(
        `nebula: INVALID_CONFIG: ${file} is a ${owner} config file; \`nebula ${command} --config\` takes a ${command} config (${docs}).`,
      );
    });
    // A file of the command's own kind with a mistyped field is still told what is wrong with it.
    const typo = await nebula('load', '--config', configFile('typo.json', { rats: [10] }), '--dry-run');
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/rats is not a known field \(did you mean rate/);
  });
});

describe('nebula replay --config', () => {
  it('reads the trace relative to the file, its mapping and policies; flags and a trace argument override them', async () => {
    const file = join(examples, 'replay.config.json');
    const r = await nebula('replay', '--config', file, '--out', join(dir, 'never'), '--dry-run', '--json');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as ReplayDryRun;
    const config = JSON.parse(readFileSync(file, 'utf8')) as { speed: number; policies: string[] };
    expect(plan.trace.path).toBe(join(examples, 'traces', 'synthetic-azure.csv'));
    expect(plan.speed).toBe(config.speed);
    expect(plan.policies).toEqual(config.policies);
    expect(plan.meter).toBe('estimate');
    // functions fib, prime in turn, and f2 mapped to fib by the file.
    expect(Object.values(plan.mapping).map((m) => m.function)).toEqual(['fib', 'fib', 'fib', 'prime']);

    const trace = configFile('mine.csv', 'time,function\n0,a\n1,b\n');
    const over = await nebula(
      'replay',
      trace,
      '--config',
      configFile('replay.json', { trace: 'nowhere.csv', speed: 10, policies: ['none'], runtimes: ['wasm'] }),
      '--speed',
      '30',
      '--out',
      join(dir, 'never'),
      '--dry-run',
      '--json',
    );
    expect(over.code, over.err).toBe(0);
    const p = JSON.parse(over.out) as ReplayDryRun;
    expect([p.trace.path, p.trace.functions, p.speed, p.policies, p.runtimes]).toEqual([
      trace,
      2,
      30,
      ['none'],
      ['wasm'],
    ]);
  });

  it("prints the file's warnings as load and bench do: in the plan and before the run", async () => {
    const root = packageRoot();
    const file = configFile('replay-warned.json', {
      trace: configFile('warned.csv', 'time,function\n0,a\n1,a\n'),
      functions: [
        {
          name: 'mine',
          docker: { image: 'nebula-never-built' },
          binary: join(root, 'functions', 'bin', 'linux-amd64', 'fib'),
          inputs: [5],
        },
      ],
      policies: ['none'],
      runtimes: ['process'],
      meter: 'none',
      speed: 100,
    });
    // Its docker image stays: the binary runs on the process runtime only.
    const warning = /^warning: .*replay-warned\.json: functions\[0\]\.binary: "mine" already has a docker artifact/m;
    const [text, json, run] = await pool(
      [['--dry-run'], ['--dry-run', '--json'], ['--out', join(dir, 'replay-warned')]],
      3,
      (flags) => nebula('replay', '--config', file, ...flags),
    );
    expect(text!.code, text!.err).toBe(0);
    expect(text!.out.split('\n').map((l) => l.trim())).toContainEqual(expect.stringMatching(warning));
    expect(json!.code, json!.err).toBe(0);
    expect((JSON.parse(json!.out) as { warnings: string[] }).warnings).toEqual([
      expect.stringMatching(/already has a docker artifact/),
    ]);
    // Before anything runs (the run itself then stops at the image, which is not in the engine).
    expect(run!.err).toMatch(warning);
    expect(run!.err.search(warning)).toBeLessThan(run!.err.indexOf('== '));
  });

  it('refuses a bad file in one line naming the field, exit 2', async () => {
    const trace = join(examples, 'traces', 'synthetic-azure.csv');
    const cases: Array<[unknown, RegExp]> = [
      [{ trace, sped: 10 }, /: sped is not a known field \(did you mean speed\?\)/],
      [{ trace, speed: 0 }, /: speed must be a number > 0/],
      [{ trace, mapping: { f9: 'fib' } }, /mapping: the trace has no function "f9"/],
      [{ trace, policies: ['lru'] }, /use none, fixed:DURATION/],
      [{ trace, window: '10:00-09:00' }, /window must end after it starts/],
      [{ trace, modes: ['warm'] }, /: modes is not a known field/],
      [{ speed: 10 }, /takes one trace file \(or a config file with a trace\)/],
    ];
    const runs = await pool(cases, 4, ([config]) =>
      nebula(
        'replay',
        '--config',
        configFile(`bad-replay-${cases.findIndex((c) => c[0] === config)}.json`, config),
        '--dry-run',
      ),
    );
    runs.forEach((r, i) => {
      expect(r.code, `${JSON.stringify(cases[i]![0])}: ${r.err}`).toBe(2);
      expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
      expect(r.err).toMatch(cases[i]![1]);
    });
  });

  it('runs the shipped examples/replay.config.json, its flags shortening it', async () => {
    const out = join(dir, 'replay-example');
    const r = await nebula(
      'replay',
      '--config',
      join(examples, 'replay.config.json'),
      '--window',
      '08:00-08:10',
      '--speed',
      '600',
      '--runtimes',
      'wasm',
      '--policies',
      'none',
      '--meter',
      'none',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const { result } = JSON.parse(r.out) as {
      result: { results: Array<{ policy: string; invocations: number; ok: number }> };
    };
    expect(result.results.map((p) => p.policy)).toEqual(['none']);
    expect(result.results[0]!.ok).toBe(result.results[0]!.invocations);
    expect(result.results[0]!.invocations).toBeGreaterThan(0);
  });
});
