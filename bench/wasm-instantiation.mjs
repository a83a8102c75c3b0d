// The instantiation study: what a Wasm cold start is made of, against the size of a module's data
// segment and of its code, and pre-initialised against not. Generated WASI preview1 modules, each
// deployed on one Wasm runtime and invoked cold, interleaved; medians of the cold-start phases
// the records give (instantiate, exec, startupMs, totalMs) and of the deploy (read, compile and
// any snapshot). Three sweeps:
//   data       S bytes of pseudo-random data in an active data segment, copied in at instantiation;
//   start code the same S bytes computed by the module's initialiser, run at start (preinit: false);
//   snapshot   that module pre-initialised at deploy (preinit: true): Wizer writes the initialised
//              memory out as a data segment, so it is `data` again, made by the tool;
//   code       C bytes of code in functions that are never called (compiled at deploy, not run);
//   code run   the same functions, each called once by the start code.
// Every module of a size prints the same checksum of its memory, checked here. The thesis behind the
// project found that a large data segment moves time from the start code to instantiation: compare
// `data` and `start code` row by row (instantiate against exec). With --html FILE the tables are
// also written as an HTML page with a chart of each sweep.
// Run: npm run build && node bench/wasm-instantiation.mjs [runs=11] [--html report.html]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nebula } from 'nebula-faas';
import { median } from './stats.mjs';

const args = process.argv.slice(2);
const htmlAt = args.indexOf('--html');
const html = htmlAt >= 0 ? args.splice(htmlAt, 2)[1] : undefined;
const runs = Number(args[0] ?? 11);
const KiB = 1024;
const MiB = 1024 * KiB;
const DATA_SIZES = [16 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 16 * MiB];
const CODE_SIZES = [16 * KiB, 256 * KiB, 1 * MiB, 4 * MiB];

// ---- A small Wasm encoder: just what these modules need. ----
const uleb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n) => {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const str = (s) => [...uleb(s.length), ...Buffer.from(s)];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const I32 = 0x7f;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (d) => [0x0c, d],
  brIf: (d) => [0x0d, d],
  call: (f) => [0x10, ...uleb(f)],
  drop: [0x1a],
  get: (l) => [0x20, l],
  set: (l) => [0x21, l],
  tee: (l) => [0x22, l],
  gget: (g) => [0x23, g],
  gset: (g) => [0x24, g],
  load: [0x28, 2, 0],
  store: [0x36, 2, 0],
  store8: [0x3a, 0, 0],
  const: (n) => [0x41, ...sleb(n)],
  eqz: [0x45],
  geU: [0x4f],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  divU: [0x6e],
  remU: [0x70],
  xor: [0x73],
  shl: [0x74],
  shrU: [0x76],
};
const BASE = 1024; // where the data starts; below it: the iovec, the byte count and the digits
const SEED = 0x12345678;
const FILLER_OPS = 128; // each unused function: 128 global additions, about 900 bytes

/** The S bytes of data: xorshift32 words from SEED, little-endian, as the initialiser computes them. */
function dataBytes(size) {
  const words = new Uint32Array(size / 4);
  let x = SEED;
  for (let i = 0; i < words.length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer);
}

/** The checksum every module of a data size prints: over one word in every 4 KiB. */
function checksum(size) {
  const view = new DataView(dataBytes(size).buffer);
  let sum = 0;
  for (let p = 0; p < size; p += 4096) sum = (Math.imul(sum, 31) + view.getUint32(p, true)) >>> 0;
  return sum;
}

/**
 * A WASI preview1 command module. `data`: S bytes in a data segment; `compute`: the same bytes
 * written by its `wizer.initialize` (which `_start` calls unless it ran); `fillers`: functions of
 * about 900 bytes each, called once from `_start` when `runFillers`.
 */
function generate({ data = 0, compute = 0, fillers = 0, runFillers = false }) {
  const size = data || compute;
  const end = BASE + size;
  const FD_WRITE = 0;
  const START = 1;
  const INIT = 2;
  const DONE = 0; // global: the initialiser ran
  const G = 1; // global the fillers add to
  const start = [
    ...op.gget(DONE),
    ...op.eqz,
    ...op.if,
    ...op.call(INIT),
    ...op.end,
    ...(runFillers ? Array.from({ length: fillers }, (_, i) => op.call(3 + i)).flat() : []),
    // sum = sum * 31 + word, over one word in every 4 KiB of the data (locals: 0 p, 1 sum)
    ...op.const(BASE),
    ...op.set(0),
    ...op.block,
    ...op.loop,
    ...op.get(0),
    ...op.const(end),
    ...op.geU,
    ...op.brIf(1),
    ...op.get(1),
    ...op.const(31),
    ...op.mul,
    ...op.get(0),
    ...op.load,
    ...op.add,
    ...op.set(1),
    ...op.get(0),
    ...op.const(4096),
    ...op.add,
    ...op.set(0),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // its decimal digits, backwards from 32, then a newline at 32
    ...op.const(32),
    ...op.set(0),
    ...op.loop,
    ...op.get(0),
    ...op.const(1),
    ...op.sub,
    ...op.tee(0),
    ...op.get(1),
    ...op.const(10),
    ...op.remU,
    ...op.const(48),
    ...op.add,
    ...op.store8,
    ...op.get(1),
    ...op.const(10),
    ...op.divU,
    ...op.tee(1),
    ...op.brIf(0),
    ...op.end,
    ...op.const(32),
    ...op.const(10),
    ...op.store8,
    // fd_write(1, [{ p, 33 - p }], 1, &written)
    ...op.const(0),
    ...op.get(0),
    ...op.store,
    ...op.const(4),
    ...op.const(33),
    ...op.get(0),
    ...op.sub,
    ...op.store,
    ...op.const(1),
    ...op.const(0),
    ...op.const(1),
    ...op.const(8),
    ...op.call(FD_WRITE),
    ...op.drop,
  ];
  const init = [
    ...(compute
      ? [
          // x = xorshift32(x), stored at p, for p from BASE to end (locals: 0 p, 1 x)
          ...op.const(SEED),
          ...op.set(1),
          ...op.const(BASE),
          ...op.set(0),
          ...op.block,
          ...op.loop,
          ...op.get(0),
          ...op.const(end),
          ...op.geU,
          ...op.brIf(1),
          ...[13, -17, 5].flatMap((s) => [
            ...op.get(1),
            ...op.get(1),
            ...op.const(Math.abs(s)),
            ...(s < 0 ? op.shrU : op.shl),
            ...op.xor,
            ...op.set(1),
          ]),
          ...op.get(0),
          ...op.get(1),
          ...op.store,
          ...op.get(0),
          ...op.const(4),
          ...op.add,
          ...op.set(0),
          ...op.br(0),
          ...op.end,
          ...op.end,
        ]
      : []),
    ...op.const(1),
    ...op.gset(DONE),
  ];
  const filler = Array.from({ length: FILLER_OPS }, (_, k) => [
    ...op.gget(G),
    ...op.const(k % 64),
    ...op.add,
    ...op.gset(G),
  ]).flat();
  const body = (locals, code) => {
    const b = [...locals, ...code, ...op.end];
    return [...uleb(b.length), ...b];
  };
  const twoLocals = [1, 2, I32];
  const pages = Math.ceil(end / 65536) + 1;
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec([
        [0x60, 4, I32, I32, I32, I32, 1, I32],
        [0x60, 0, 0],
      ]),
    ),
    ...section(2, vec([[...str('wasi_snapshot_preview1'), ...str('fd_write'), 0x00, 0]])),
    ...section(3, vec(Array.from({ length: 2 + fillers }, () => [1]))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(
      6,
      vec([
        [I32, 1, ...op.const(0), ...op.end],
        [I32, 1, ...op.const(0), ...op.end],
      ]),
    ),
    ...section(
      7,
      vec([
        [...str('memory'), 0x02, 0],
        [...str('_start'), 0x00, START],
        [...str('wizer.initialize'), 0x00, INIT],
      ]),
    ),
  ];
  const code = section(
    10,
    vec([body(twoLocals, start), body(twoLocals, init), ...Array.from({ length: fillers }, () => body([0], filler))]),
  );
  const head = Uint8Array.from([...bytes, ...code]);
  if (!data) return head;
  const d = dataBytes(data);
  const segmentHead = [0x00, ...op.const(BASE), ...op.end, ...uleb(d.length)];
  const dataSection = [0x0b, ...uleb(1 + segmentHead.length + d.length), 1, ...segmentHead];
  const out = new Uint8Array(head.length + dataSection.length + d.length);
  out.set(head);
  out.set(dataSection, head.length);
  out.set(d, head.length + dataSection.length);
  return out;
}

// ---- The sweeps ----
const scratch = mkdtempSync(join(tmpdir(), 'nebula-instantiation-'));
const nebula = new Nebula({ builtins: false, wasm: { cacheDir: join(scratch, 'cache') } });
const fillerCount = (bytes) => Math.max(1, Math.round(bytes / (FILLER_OPS * 7)));
const cases = [
  ...DATA_SIZES.flatMap((s) => [
    { sweep: 'data', size: s, spec: { wasm: generate({ data: s }), preinit: false } },
    { sweep: 'start code', size: s, spec: { wasm: generate({ compute: s }), preinit: false } },
    { sweep: 'snapshot', size: s, spec: { wasm: generate({ compute: s }), preinit: true } },
  ]),
  ...CODE_SIZES.flatMap((s) => [
    { sweep: 'code', size: s, spec: { wasm: generate({ fillers: fillerCount(s) }), preinit: false } },
    {
      sweep: 'code run',
      size: s,
      spec: { wasm: generate({ fillers: fillerCount(s), runFillers: true }), preinit: false },
    },
  ]),
];
try {
  // A first deploy starts the runtime's workers: not counted against any module.
  await nebula.deploy({ name: 'warm-up', wasm: generate({}), preinit: false });
  for (const [i, c] of cases.entries()) {
    c.name = `gen${i}`;
    const t = performance.now();
    await nebula.deploy({ name: c.name, ...c.spec });
    c.deployMs = performance.now() - t;
    const info = (await nebula.functions()).find((f) => f.name === c.name).artifacts.wasm;
    // The code that runs: the snapshot's, when there is one.
    c.moduleBytes = info.snapshot?.snapshotBytes ?? c.spec.wasm.length;
    c.expect = c.sweep.startsWith('code') ? 0 : checksum(c.size);
    c.records = [];
  }
  for (let r = 0; r < runs + 2; r++) {
    const order = r % 2 ? [...cases].reverse() : cases;
    for (const c of order) {
      const rec = await nebula.invoke(c.name, null, { mode: 'cold' });
      if (!rec.ok) throw new Error(`${c.sweep} ${c.size}: ${rec.error?.message}`);
      if (rec.result !== c.expect) throw new Error(`${c.sweep} ${c.size}: printed ${rec.result}, not ${c.expect}`);
      if (rec.preinitialized !== (c.sweep === 'snapshot')) throw new Error(`${c.sweep}: preinitialized is wrong`);
      if (r >= 2) c.records.push(rec); // the first two rounds wait for V8's optimised code
    }
  }
} finally {
  await nebula.close();
  rmSync(scratch, { recursive: true, force: true });
}

const FIELDS = [
  ['instantiate', (r) => r.timing.phases.instantiate ?? 0],
  ['exec', (r) => r.timing.execMs],
  ['startupMs', (r) => r.timing.startupMs],
  ['totalMs', (r) => r.timing.totalMs],
];
for (const c of cases) {
  c.med = Object.fromEntries(FIELDS.map(([k, f]) => [k, median(c.records.map(f))]));
  c.med.deploy = c.deployMs;
}
const sizeText = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);
const SWEEPS = [
  ['Data segment against start code', ['data', 'start code', 'snapshot'], 'data size'],
  ['Code size', ['code', 'code run'], 'code size'],
];
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const head = `${cpu}, node ${process.version}; load average ${loadavg()[0].toFixed(1)}; ${runs} cold invocations of each module, interleaved; medians in ms (deploy: once)`;
console.log(head);
const tables = [];
for (const [title, sweeps, axis] of SWEEPS) {
  const rows = cases.filter((c) => sweeps.includes(c.sweep));
  const cols = ['module', axis, 'module bytes', ...FIELDS.map(([k]) => k), 'deploy'];
  const cells = rows.map((c) => [
    c.sweep,
    sizeText(c.size),
    String(c.moduleBytes),
    ...[...FIELDS.map(([k]) => k), 'deploy'].map((k) => c.med[k].toFixed(3)),
  ]);
  tables.push({ title, cols, cells, rows, sweeps, axis });
  console.log(`\n${title}`);
  const w = cols.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)) + 2);
  console.log(cols.map((h, i) => (i < 2 ? h.padEnd(w[i]) : h.padStart(w[i]))).join(''));
  for (const r of cells) console.log(r.map((v, i) => (i < 2 ? v.padEnd(w[i]) : v.padStart(w[i]))).join(''));
}
const at = (sweep, size) => cases.find((c) => c.sweep === sweep && c.size === size).med;
const big = DATA_SIZES.at(-1);
const d = at('data', big);
const s = at('start code', big);
console.log(
  `\nAt ${sizeText(big)}: the data segment's instantiate ${d.instantiate.toFixed(2)} ms and exec ${d.exec.toFixed(2)} ms; ` +
    `start code's instantiate ${s.instantiate.toFixed(2)} ms and exec ${s.exec.toFixed(2)} ms; ` +
    `totalMs data/start code ${(d.totalMs / s.totalMs).toFixed(2)}x, snapshot/start code ${(at('snapshot', big).totalMs / s.totalMs).toFixed(2)}x`,
);

if (html) {
  writeFileSync(html, page());
  console.log(`\nwrote ${html}`);
}

/** A log-log line chart of the phases of each module of a sweep against its size. */
function chart(t) {
  const W = 900;
  const H = 380;
  const L = 70;
  const R = 180;
  const T = 30;
  const B = 50;
  // Code is compiled at deploy: its sweep shows the deploy too.
  const keys = t.axis === 'code size' ? ['instantiate', 'exec', 'deploy'] : ['instantiate', 'exec'];
  const series = t.sweeps.flatMap((sw, i) =>
    keys.map((k) => ({
      label: `${sw}: ${k}`,
      color: ['#1f77b4', '#d62728', '#2ca02c'][i],
      dash: { instantiate: '', exec: '6 4', deploy: '2 3' }[k],
      points: t.rows.filter((c) => c.sweep === sw).map((c) => [c.size, Math.max(c.med[k], 1e-3)]),
    })),
  );
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const [x0, x1] = [Math.log10(Math.min(...xs)), Math.log10(Math.max(...xs))];
  const [y0, y1] = [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))];
  const X = (v) => L + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const Y = (v) => H - B - ((Math.log10(v) - y0) / (y1 - y0 || 1)) * (H - T - B);
  const parts = [
    `<text x="${L}" y="18" font-weight="bold">${t.title}: instantiate (solid), exec (dashed)${keys.length > 2 ? ', deploy (dotted)' : ''}, ms</text>`,
  ];
  for (let e = y0; e <= y1; e++)
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#ddd"/><text x="${L - 6}" y="${Y(10 ** e) + 4}" text-anchor="end" font-size="11">${10 ** e}</text>`,
    );
  for (const v of [...new Set(xs)])
    parts.push(
      `<line x1="${X(v)}" x2="${X(v)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${X(v)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${sizeText(v)}</text>`,
    );
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">${t.axis}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`,
    );
    const ly = T + 10 + i * 18;
    parts.push(
      `<line x1="${W - R + 10}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/><text x="${W - R + 46}" y="${ly + 4}" font-size="12">${s.label}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px" font-family="sans-serif">${parts.join('')}</svg>`;
}

function page() {
  const table = (t) =>
    `<table><tr>${t.cols.map((c) => `<th>${c}</th>`).join('')}</tr>${t.cells
      .map((r) => `<tr>${r.map((v) => `<td>${v}</td>`).join('')}</tr>`)
      .join('')}</table>`;
  return `<!doctype html><meta charset="utf-8"><title>Wasm instantiation study</title>
<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}td,th{padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style>
<h1>Wasm instantiation study</h1><p>${head}</p>
${tables.map((t) => `<h2>${t.title}</h2>${chart(t)}${table(t)}`).join('\n')}
`;
}
