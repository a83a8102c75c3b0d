// Every built-in on the Wasm runtime against the same C source as a native static binary, both
// built by clang -O2 (functions/manifest.json), at an input that runs >= 100 ms natively.
// Wasm: `execMs` of cold invocations through `new Nebula()`. Native: the committed static binary
// (functions/bin/linux-<arch>/) spawned directly, timed from the child's 'spawn' event to its
// 'exit'. Interleaved (wasm, native, wasm, ...), median of N each. V8's flags are process-wide, so
// each `v8Tiering` setting runs in child processes of its own: one for the long runs, one for
// short runs (the quick inputs) on a fresh deploy, so that neither inherits the other's tier-up.
// Each ratio is printed beside the CPU it was measured on and the flags both sides were built with.
// `--v8-features baseline` runs the children with V8's optional x86-64 instructions off (AVX, AVX2,
// BMI1/2, LZCNT, POPCNT, FMA3), as on an older CPU, to see whether a ratio hangs on them; the
// native side is built for the x86-64 baseline (SSE2) anyway. Wasm SIMD needs SSE4.1 under V8.
// Run: npm run build && node bench/wasm-vs-native.mjs [runs=10] [--tiering default|eager|both] [--v8-features all|baseline]
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BUILTINS, BUILTIN_NAMES, Nebula, builtinBinary, builtinManifest, dockerArch } from 'nebula-faas';
import { median } from './stats.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const tieringArg = option('--tiering', 'both');
const featuresArg = option('--v8-features', 'all');
const child = option('--child', undefined);
const runs = Number(args[0] ?? 10);
if (!['all', 'baseline'].includes(featuresArg))
  throw new Error(`--v8-features must be all or baseline, not ${featuresArg}`);
const BASELINE = [
  '--no-enable-avx',
  '--no-enable-avx2',
  '--no-enable-bmi1',
  '--no-enable-bmi2',
  '--no-enable-lzcnt',
  '--no-enable-popcnt',
  '--no-enable-fma3',
];
if (featuresArg === 'baseline' && process.arch !== 'x64')
  throw new Error('--v8-features baseline is for x86-64 machines');

/** The CPU model as the kernel names it (`model name`), or Node's name for it. */
function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? process.arch;
}

/** The flags of an artifact that decide its code (no target, linker or strip flags), with its SIMD. */
const codeFlags = (a) =>
  `${a.flags
    .split(' ')
    .filter((f) => !/^(--target=|-Wl,|-static$|-fuse-ld=|-s$)/.test(f))
    .join(' ')} [${(a.simd ?? 'SIMD not recorded').split(' (')[0]}]`;

/** Spawns the native binary once; resolves its stdout and the ms from 'spawn' to 'exit'. */
function runNative(path, input) {
  return new Promise((resolve, reject) => {
    const p = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let t0 = 0;
    let out = '';
    let err = '';
    p.on('spawn', () => (t0 = performance.now()));
    p.on('exit', (code) => {
      const ms = performance.now() - t0;
      p.on('close', () =>
        code === 0 ? resolve({ ms, out: out.trim() }) : reject(new Error(`${path}: exit ${code}: ${err}`)),
      );
    });
    p.on('error', reject);
    p.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    p.stdin.end(JSON.stringify(input));
  });
}

/** WebAssembly.compile of a core module under the flags in force, ms, median of 5; unique bytes each time (V8 caches by bytes). */
async function compileMs(name) {
  const bytes = readFileSync(fileURLToPath(new URL(`../functions/wasm/core/${name}.wasm`, import.meta.url)));
  const out = [];
  for (let i = 0; i < 5; i++) {
    const tag = Buffer.from(`bench-${process.pid}-${i}`);
    const unique = Buffer.concat([bytes, Buffer.from([0, tag.length + 1, tag.length]), tag]);
    const t = performance.now();
    await WebAssembly.compile(unique);
    out.push(performance.now() - t);
  }
  return median(out);
}

async function invokeWasm(nebula, name, input) {
  const rec = await nebula.invoke(name, input, { runtime: 'wasm', mode: 'cold' });
  if (!rec.ok) throw new Error(`${name}: ${rec.error?.message}`);
  return rec;
}

/** One child: `long` (wasm vs native at longInput) or `short` (wasm alone at quickInput). */
async function measure(tiering, kind) {
  const nebula = new Nebula({ wasm: { v8Tiering: tiering } });
  const rows = [];
  for (const name of BUILTIN_NAMES) {
    const input = kind === 'long' ? BUILTINS[name].longInput : BUILTINS[name].quickInput;
    const t = performance.now();
    await nebula.prepare([name], ['wasm']);
    const row = { name, input, deployMs: performance.now() - t, wasm: [], native: [] };
    for (let i = 0; i < runs; i++) {
      const rec = await invokeWasm(nebula, name, input);
      row.wasm.push(rec.timing.execMs);
      if (kind === 'short') continue;
      const bin = builtinBinary(name);
      if (!bin) throw new Error(`no native binary of ${name} for ${process.arch}`);
      const n = await runNative(bin, input);
      if (JSON.stringify(JSON.parse(n.out)) !== JSON.stringify(rec.result))
        throw new Error(`${name}: native ${n.out}, wasm ${JSON.stringify(rec.result)}`);
      row.native.push(n.ms);
    }
    if (kind === 'long') row.compileMs = await compileMs(name);
    rows.push(row);
  }
  await nebula.close();
  return rows;
}

function table(head, lines) {
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const numeric = (c) => /^[\d.]+x?$/.test(c);
  for (const l of [head, ...lines])
    console.log(
      l
        .map((c, k) =>
          k < 2 || (!numeric(c) && !numeric(lines[0]?.[k] ?? '')) ? c.padEnd(widths[k]) : c.padStart(widths[k]),
        )
        .join('  ')
        .trimEnd(),
    );
  console.log('');
}

if (child) {
  const [tiering, kind] = child.split(':');
  process.stdout.write(JSON.stringify(await measure(tiering, kind)) + '\n');
} else {
  const tierings = tieringArg === 'both' ? ['default', 'eager'] : [tieringArg];
  const loadBefore = loadavg()[0];
  const res = {};
  for (const t of tierings)
    for (const kind of ['short', 'long']) {
      const v8 = featuresArg === 'baseline' ? BASELINE : [];
      const out = execFileSync(
        process.execPath,
        [...v8, fileURLToPath(import.meta.url), String(runs), '--child', `${t}:${kind}`],
        { encoding: 'utf8' },
      );
      res[`${t}:${kind}`] = JSON.parse(out.trim().split('\n').pop());
    }
  const arch = dockerArch();
  const artifact = (name, kind) =>
    builtinManifest().artifacts.find(
      (a) => a.function === name && a.kind === kind && (kind !== 'native' || a.arch === arch),
    );
  const cc = (kind) => artifact(BUILTIN_NAMES[0], kind);
  const cpu = cpuModel();
  const f = (ms) => ms.toFixed(1);
  console.log(
    `node ${process.version}, ${runs} runs per figure, medians; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`,
  );
  console.log(
    `cpu:    ${cpu} (${cpus().length} cores); V8's optional CPU features: ${featuresArg === 'baseline' ? `off (${BASELINE.join(' ')})` : 'all it detects'}`,
  );
  console.log(`wasm:   ${cc('wasm-core').compiler}; ${cc('wasm-core').flags}`);
  console.log(`native: ${cc('native').compiler}; ${cc('native').flags} (linux-${arch})`);
  console.log(
    '\nLong runs: wasm execMs (cold) / native exec (spawn to exit), interleaved; each ratio with the CPU and the flags of both sides',
  );
  console.log(
    'ratio: of the medians; of fastest: of the fastest run of each (wasm from its second run on), steadier when other work shares the CPU',
  );
  table(
    [
      'function',
      'input',
      ...tierings.flatMap((t) => [`native ms`, `wasm ${t} ms`, 'ratio', 'of fastest']),
      'cpu',
      'wasm flags',
      'native flags',
    ],
    BUILTIN_NAMES.map((name, i) => [
      name,
      JSON.stringify(BUILTINS[name].longInput),
      ...tierings.flatMap((t) => {
        const r = res[`${t}:long`][i];
        return [
          f(median(r.native)),
          f(median(r.wasm)),
          `${(median(r.wasm) / median(r.native)).toFixed(2)}x`,
          `${(Math.min(...r.wasm.slice(1)) / Math.min(...r.native)).toFixed(2)}x`,
        ];
      }),
      `${cpu}${featuresArg === 'baseline' ? ' (V8 baseline)' : ''}`,
      codeFlags(artifact(name, 'wasm-core')),
      codeFlags(artifact(name, 'native')),
    ]),
  );
  console.log('The first invocation after deploy at the long input (execMs), and compile/deploy time');
  table(
    ['function', 'input', ...tierings.flatMap((t) => [`first ${t}`, 'ratio', `compile ms`, 'deploy ms'])],
    BUILTIN_NAMES.map((name, i) => [
      name,
      JSON.stringify(BUILTINS[name].longInput),
      ...tierings.flatMap((t) => {
        const r = res[`${t}:long`][i];
        return [f(r.wasm[0]), `${(r.wasm[0] / median(r.native)).toFixed(2)}x`, f(r.compileMs), f(r.deployMs)];
      }),
    ]),
  );
  console.log('Short runs (the quick inputs) on a fresh deploy: wasm execMs of the first invocation and the median');
  table(
    ['function', 'input', ...tierings.flatMap((t) => [`first ${t}`, `median ${t}`])],
    BUILTIN_NAMES.map((name, i) => [
      name,
      JSON.stringify(BUILTINS[name].quickInput),
      ...tierings.flatMap((t) => {
        const r = res[`${t}:short`][i];
        return [f(r.wasm[0]), r.wasm.length ? median(r.wasm).toFixed(3) : '-'];
      }),
    ]),
  );
  console.log(
    'compile ms: WebAssembly.compile of the core module under that setting (median of 5); deploy ms: nebula.prepare(), disk cache warm.',
  );
}
