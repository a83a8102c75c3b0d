import { describe, expect, it } from 'vitest';
import {
  DockerRuntime,
  EstimateMeter,
  GudeMeter,
  Nebula,
  ProcessRuntime,
  RaplMeter,
  WasmRuntime,
} from '../src/index.js';
import { Experiment, runExperiment } from '../src/experiment/index.js';
import { GudeSimulator } from '../src/meters/gude/index.js';
import { createServer } from '../src/server/index.js';
import { nearest, unknownKey } from '../src/known-keys.js';

/** Calls `make` and returns what it threw (or rejected with). */
async function thrown(make: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await make();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('nothing was thrown');
}

describe('keys that are not known', () => {
  it('name the nearest known key', () => {
    expect(nearest('timeout', ['runtime', 'mode', 'timeoutMs'])).toBe('timeoutMs');
    expect(nearest('repetiton', ['repetitions', 'warmup'])).toBe('repetitions');
    expect(nearest('zzz', ['repetitions', 'warmup'])).toBeUndefined();
    expect(unknownKey({ mode: 'cold', timout: 1 }, ['mode', 'timeoutMs'])).toBe(
      'unknown key "timout" (did you mean "timeoutMs"?); known: mode, timeoutMs',
    );
    expect(unknownKey({ mode: 'cold' }, ['mode'])).toBeUndefined();
    expect(unknownKey('text', ['mode'])).toBeUndefined();
    expect(unknownKey(JSON.parse('{"__proto__": 1}'), ['mode'])).toMatch(/^unknown key "__proto__"/);
  });

  it('are errors in deploy specs and invoke options, with the nearest valid name', async () => {
    const nebula = new Nebula({ meter: null });
    try {
      const binary = await thrown(() => nebula.deploy({ name: 'mine', binary: '/bin/true' } as never));
      expect(binary.code).toBe('INVALID_ARGUMENT');
      expect(binary.message).toMatch(
        /^Function "mine": unknown key "binary" \(a static binary goes inside a runtime's artifact: \{ docker: \{ binary: PATH \} \} or \{ process: \{ binary: PATH \} \}\); known: name, /,
      );
      const wasm = await thrown(() => nebula.deploy({ name: 'mine', wsam: 'x.wasm' } as never));
      expect(wasm.message).toMatch(/unknown key "wsam" \(did you mean "wasm"\?\)/);
      const limits = await thrown(() =>
        nebula.deploy({ name: 'mine', docker: { image: 'x' }, limits: { memoryMb: 64 } } as never),
      );
      expect(limits.message).toMatch(/^Function "mine": limits: unknown key "memoryMb" \(did you mean "memoryMiB"\?\)/);
      const grants = await thrown(() =>
        nebula.deploy({ name: 'mine', docker: { image: 'x' }, grants: { environment: {} } } as never),
      );
      expect(grants.message).toMatch(/grants: unknown key "environment"/);
      const source = await thrown(() => nebula.deploy({ name: 'mine', docker: { image: 'x', tag: 'y' } } as never));
      expect(source.message).toMatch(/^Function "mine": "docker": unknown key "tag"; known: image, tarball, binary\.$/);
      const invoke = await thrown(() => nebula.invoke('fib', 5, { timeout: 100 } as never));
      expect(invoke).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message:
          'invoke() options: unknown key "timeout" (did you mean "timeoutMs"?); known: runtime, mode, timeoutMs, signal, waitForEnergy.',
      });
      expect((await thrown(() => nebula.measureBaseline({ duration: 5 } as never))).message).toMatch(
        /did you mean "durationMs"/,
      );
      expect((await nebula.invoke('fib', 5, { timeoutMs: 10_000 })).ok).toBe(true);
    } finally {
      await nebula.close();
    }
  });

  it('are errors in every constructor and options object of the SDK', async () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [
        () => new Nebula({ metre: null } as never),
        /^new Nebula\(\) options: unknown key "metre" \(did you mean "meter"\?\)/,
      ],
      [
        () => new WasmRuntime({ worker: 1 } as never),
        /^WasmRuntime options: unknown key "worker" \(did you mean "workers"\?\)/,
      ],
      [() => new DockerRuntime({ keepAlive: 1 } as never), /did you mean "keepAliveMs"/],
      [() => new ProcessRuntime({ tmpdir: '/tmp' } as never), /did you mean "tmpDir"/],
      [() => new EstimateMeter({ interval: 100 } as never), /^EstimateMeter options: .*did you mean "intervalMs"/],
      [() => new RaplMeter({ zone: [] } as never), /did you mean "zones"/],
      [
        () => new GudeMeter({ host: 'x', prot: 502 } as never),
        /^GudeMeter options: unknown key "prot" \(did you mean "port"\?\)/,
      ],
      [() => new GudeSimulator({ faults: 'none' } as never), /did you mean "fault"/],
      [
        () => createServer(new Nebula({ meter: null, builtins: false }), { tokn: 'x' } as never),
        /did you mean "token"/,
      ],
      [
        () => new Experiment(new Nebula({ meter: null, builtins: false }), { outDir: 'x', repetition: 3 } as never),
        /^Experiment config: unknown key "repetition" \(did you mean "repetitions"\?\)/,
      ],
      [
        () =>
          new Experiment(new Nebula({ meter: null, builtins: false }), {
            outDir: 'x',
            keepWarm: { count: [1] },
          } as never),
        /^Experiment config: keepWarm: unknown key "count" \(did you mean "counts"\?\)/,
      ],
      [
        () => runExperiment({ outDir: 'x' }, { metre: null } as never),
        /^runExperiment\(\) options: unknown key "metre"/,
      ],
      [
        () => runExperiment({ outDir: 'x' }, { on: { progres: () => undefined } } as never),
        /options\.on: unknown key "progres" \(did you mean "progress"\?\)/,
      ],
    ];
    for (const [make, message] of cases) {
      const e = await thrown(make);
      expect(e.code, message.source).toMatch(/^INVALID_(ARGUMENT|CONFIG)$/);
      expect(e.message).toMatch(message);
    }
  });
});
