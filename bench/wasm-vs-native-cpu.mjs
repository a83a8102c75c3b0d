// Every built-in's Wasm/native ratio in CPU time rather than wall time, for a machine shared with
// other work, where wall times stretch with the load but CPU times much less. Native: the static
// binary's task-clock as `perf stat` counts it (Debian linux-perf), process start included. Wasm:
// the CPU time of the whole process (`process.cpuUsage()`, all threads) across one cold invocation
// through `new Nebula()` with v8Tiering 'eager', after three invocations that let V8 optimise the
// code (and half a second for V8's background compiles). Fastest of N each, interleaved, at each
// built-in's long input (>= 100 ms natively).
// V8 without its optional x86-64 instructions (as on an older CPU): node --no-enable-avx --no-enable-avx2
// --no-enable-bmi1 --no-enable-bmi2 --no-enable-lzcnt --no-enable-popcnt --no-enable-fma3 bench/wasm-vs-native-cpu.mjs
// Run: npm run build && node bench/wasm-vs-native-cpu.mjs [runs=7]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { BUILTINS, BUILTIN_NAMES, Nebula, builtinBinary } from 'nebula-faas';

const runs = Number(process.argv[2] ?? 7);
try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('bench/wasm-vs-native-cpu.mjs needs perf (Debian package linux-perf) for the native side');
}

/** CPU ms of one run of the native binary (perf's task-clock), and its stdout. */
function nativeCpuMs(path, input) {
  const r = spawnSync('perf', ['stat', '-x', ',', '-e', 'task-clock', path], {
    input: JSON.stringify(input),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${path}: ${r.stderr}`);
  const line = r.stderr.split('\n').find((l) => l.includes('task-clock'));
  return { ms: Number(line.split(',')[0]), out: r.stdout.trim() };
}

const cpuMs = (u) => (u.user + u.system) / 1000;
const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
const nebula = new Nebula({ wasm: { v8Tiering: 'eager', workers: 1 } });
console.log(
  `node ${process.version}, CPU ${model}; fastest of ${runs} each, CPU time; load average ${loadavg()[0].toFixed(1)} before`,
);
console.log(`${'function'.padEnd(12)}${'native ms'.padStart(11)}${'wasm ms'.padStart(11)}${'ratio'.padStart(8)}`);
for (const name of BUILTIN_NAMES) {
  const input = BUILTINS[name].longInput;
  await nebula.prepare([name], ['wasm']);
  for (let i = 0; i < 3; i++) await nebula.invoke(name, input, { runtime: 'wasm' });
  // V8 optimises in background threads, which a busy machine may hold up: let them finish.
  await new Promise((resolve) => setTimeout(resolve, 500));
  let wasm = Infinity;
  let native = Infinity;
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    const rec = await nebula.invoke(name, input, { runtime: 'wasm' });
    wasm = Math.min(wasm, cpuMs(process.cpuUsage(before)));
    const n = nativeCpuMs(builtinBinary(name), input);
    if (!rec.ok || JSON.stringify(JSON.parse(n.out)) !== JSON.stringify(rec.result))
      throw new Error(`${name}: wasm ${JSON.stringify(rec.result)}, native ${n.out}`);
    native = Math.min(native, n.ms);
  }
  console.log(
    `${name.padEnd(12)}${native.toFixed(1).padStart(11)}${wasm.toFixed(1).padStart(11)}${`${(wasm / native).toFixed(2)}x`.padStart(8)}`,
  );
}
await nebula.close();
console.log(`load average ${loadavg()[0].toFixed(1)} after`);
