// Compare one function on WebAssembly and Docker: median cold start and run time of 5 each,
// interleaved so the machine's drift favours neither.
// Run: node examples/compare-wasm-docker.mjs   (needs a running Docker engine)
import { Nebula } from 'nebula-faas';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nebula = new Nebula();
try {
  await nebula.prepare(['prime'], ['wasm', 'docker']); // compile and build the image before measuring
  const runs = { wasm: [], docker: [] };
  for (let i = 0; i < 5; i++) {
    for (const runtime of ['wasm', 'docker']) {
      const rec = await nebula.invoke('prime', 2000, { runtime });
      if (!rec.ok) throw new Error(`${runtime}: ${rec.error.code}: ${rec.error.message}`);
      runs[runtime].push(rec.timing);
    }
  }
  for (const runtime of ['wasm', 'docker']) {
    const t = runs[runtime];
    console.log(
      `${runtime.padEnd(6)} startup ${median(t.map((x) => x.startupMs))
        .toFixed(3)
        .padStart(9)} ms` +
        `   exec ${median(t.map((x) => x.execMs))
          .toFixed(3)
          .padStart(9)} ms   total ${median(t.map((x) => x.totalMs))
          .toFixed(3)
          .padStart(9)} ms`,
    );
  }
  const ratio = median(runs.docker.map((x) => x.startupMs)) / median(runs.wasm.map((x) => x.startupMs));
  console.log(`docker / wasm cold start: ${ratio.toFixed(0)}x`);
} finally {
  await nebula.close();
}
