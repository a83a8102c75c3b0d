/**
 * Reading components without jco: the walk finds the same preview1 main module jco's transpiler
 * finds, reads the component's own imports and exports, and turns malformed or hostile bytes into
 * INVALID_FUNCTION at deploy (never a RangeError, a hang or a crash). Real components: the
 * built-ins, components made by jco from clang-built modules, hand-written components.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareArtifact } from '../../../../src/runtimes/wasm/artifact/prepare.js';
import { MAX_COMPONENT_DEPTH, readComponent } from '../../../../src/runtimes/wasm/binary/component.js';
import { importModules, leb } from '../../../../src/runtimes/wasm/binary/codec.js';
import { functionsDir } from '../../../../src/paths.js';
import { buildFixtures, componentOf, type Fixture } from '../fixtures.js';
import { tempDir } from '../../../temp-dir.js';

let fx: Record<Fixture, Uint8Array>;
let cacheDir: string;
const builtins = readdirSync(join(functionsDir(), 'wasm')).filter((f) => f.endsWith('.wasm'));

beforeAll(async () => {
  fx = await buildFixtures();
  cacheDir = tempDir('component-cache');
});

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const component = (...sections: number[][]) => new Uint8Array([...HEADER, ...sections.flat()]);
const section = (id: number, body: number[] | Uint8Array) => [id, ...leb(body.length), ...body];
const prepare = (bytes: Uint8Array) =>
  prepareArtifact('c', bytes, { cacheDir, memoryMaxBytes: 64 << 20, maxModuleBytes: 128 << 20 });

/** The module jco's transpiler emits that imports wasi_snapshot_preview1: what deploy used to pick. */
async function jcoMain(bytes: Uint8Array): Promise<Uint8Array> {
  const out = await transpileBytes(bytes, {
    name: 'fn',
    instantiation: 'sync',
    emitTypescriptDeclarations: false,
    noComponentErrorWrapping: false,
  });
  const mains = Object.entries(out.files).filter(
    ([f, data]) => f.endsWith('.wasm') && importModules(data).has('wasi_snapshot_preview1'),
  );
  expect(mains).toHaveLength(1);
  return mains[0]![1];
}

describe('the component walk', () => {
  it.each(builtins)(
    'finds the preview1 main module of the built-in %s, the one jco finds, and its WASI imports',
    async (file) => {
      const bytes = readFileSync(join(functionsDir(), 'wasm', file));
      const outline = readComponent(bytes);
      const mains = outline.coreModules.filter((m) => importModules(m).has('wasi_snapshot_preview1'));
      expect(mains).toHaveLength(1);
      expect(Buffer.from(mains[0]!).equals(Buffer.from(await jcoMain(bytes)))).toBe(true);
      expect(outline.exports).toEqual([expect.stringMatching(/^wasi:cli\/run@0\.2\./)]);
      expect(outline.imports.some((i) => i.startsWith('wasi:cli/stdout@0.2.'))).toBe(true);
      expect(outline.imports.every((i) => /^wasi:(cli|clocks|filesystem|io|random)\//.test(i))).toBe(true);
    },
  );

  it('finds the main module of components jco builds from clang modules, byte for byte the module given', async () => {
    for (const name of ['echo', 'exit3', 'counter'] as const) {
      const bytes = await componentOf(fx[name]);
      const mains = readComponent(bytes).coreModules.filter((m) => importModules(m).has('wasi_snapshot_preview1'));
      expect(mains.map((m) => Buffer.from(m).equals(Buffer.from(fx[name])))).toEqual([true]);
    }
  });

  it('finds core modules inside nested components, and none in a native WASI 0.2 component', () => {
    expect(readComponent(fx.nested).coreModules.map((m) => [...importModules(m)])).toEqual([
      ['wasi_snapshot_preview1'],
      [],
    ]);
    expect(readComponent(fx.nativeOk).coreModules.map((m) => [...importModules(m)])).toEqual([[]]);
    expect(readComponent(fx.nativeSockets).imports).toEqual(['wasi:sockets/tcp@0.2.0']);
  });
});

describe('deploy of components that are not runnable WASI commands', () => {
  it.each([
    [
      'a component importing WASI sockets',
      () => fx.nativeSockets,
      /imports wasi:sockets\/tcp@0\.2\.0, which the runtime does not provide/,
    ],
    ['a component that does not export wasi:cli/run', () => fx.nativeNoRun, /does not export wasi:cli\/run/],
    ['a component with no sections at all', () => component(), /does not export wasi:cli\/run/],
  ])('refuses %s with INVALID_FUNCTION', async (_what, bytes, message) => {
    const err = await prepare(bytes()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION', message: expect.stringMatching(message) });
  });
});

describe('malformed and hostile component bytes', () => {
  /** Components nested `depth` levels inside one another. */
  const nest = (depth: number): Uint8Array => {
    let inner = new Uint8Array(HEADER);
    for (let i = 0; i < depth; i++) {
      const head = [...HEADER, 4, ...leb(inner.length)];
      const outer = new Uint8Array(head.length + inner.length);
      outer.set(head);
      outer.set(inner, head.length);
      inner = outer;
    }
    return inner;
  };
  const hostile: Array<[string, () => Uint8Array, RegExp]> = [
    ['a section length of 2^32 - 1', () => component([0x01, 0xff, 0xff, 0xff, 0xff, 0x0f]), /unexpected end/],
    ['a section length over 2^32', () => component([0x01, 0xff, 0xff, 0xff, 0xff, 0x7f]), /over 2\^32/],
    ['a LEB128 number that never ends', () => component([0x01, ...new Array(64).fill(0x80)]), /LEB128 number too long/],
    ['an unknown section id', () => component(section(0x2a, [])), /unknown section id 42/],
    [
      'a core module section holding no module',
      () => component(section(1, [1, 2, 3, 4, 5, 6, 7, 8])),
      /holds no core module/,
    ],
    [
      'a nested component with no header',
      () => component(section(4, [0, 0, 0, 0])),
      /nested component has no component header/,
    ],
    [`components nested ${MAX_COMPONENT_DEPTH + 1} deep`, () => nest(MAX_COMPONENT_DEPTH + 1), /nested deeper than 16/],
    ['components nested 10 000 deep', () => nest(10_000), /nested deeper than 16/],
    [
      'an import count of 2^32 - 1 with no imports',
      () => component(section(10, [0xff, 0xff, 0xff, 0xff, 0x0f])),
      /unexpected end/,
    ],
    [
      'an import name longer than its section',
      () => component(section(10, [0x01, 0x00, 0xff, 0xff, 0x03, 0x61])),
      /unexpected end/,
    ],
    [
      'an import of an unknown kind',
      () => component(section(10, [0x01, 0x00, 0x01, 0x61, 0x09, 0x00])),
      /extern kind 0x9/,
    ],
    ['an export section with trailing bytes', () => component(section(11, [0x00, 0x00])), /trailing bytes/],
  ];

  it.each(hostile)('refuses %s with INVALID_FUNCTION, saying it is malformed', async (_what, bytes, why) => {
    const err = await prepare(bytes()).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'INVALID_FUNCTION',
      message: expect.stringMatching(/the component is malformed/),
    });
    expect((err as Error).message).toMatch(why);
  });

  it('refuses a built-in component cut anywhere inside a section, never with a raw error', async () => {
    const bytes = readFileSync(join(functionsDir(), 'wasm', 'fib.wasm'));
    // Top-level section boundaries, where a cut leaves a well-framed (if incomplete) component.
    const boundaries = new Set<number>([8]);
    for (let at = 8; at < bytes.length;) {
      let size = 0;
      let scale = 1;
      let p = at + 1;
      for (let b = 0x80; b & 0x80; scale *= 128) size += ((b = bytes[p++]!) & 0x7f) * scale;
      boundaries.add((at = p + size));
    }
    const cuts = [
      ...Array.from({ length: 8 }, (_, i) => i + 1),
      ...Array.from({ length: Math.floor(bytes.length / 61) }, (_, i) => 9 + i * 61),
    ].filter((c) => !boundaries.has(c));
    expect(cuts.length).toBeGreaterThan(500);
    for (const cut of cuts) {
      const err = await prepare(bytes.subarray(0, cut)).catch((e: unknown) => e);
      expect(err, `cut at ${cut}`).toMatchObject({ code: 'INVALID_FUNCTION' });
    }
  });
});
