// Deploy your own WebAssembly function and invoke it. Any WASI preview1 command module (clang
// --target=wasm32-wasi, Rust wasm32-wasip1, TinyGo -target=wasip1) or WASI 0.2 command component works.
// Run: node examples/deploy-component.mjs [path/to/your.wasm] [input-json]
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Nebula } from 'nebula-faas';

// Without arguments, deploy the preview1 core module of the built-in `prime` under a new name.
const path = process.argv[2] ?? fileURLToPath(new URL('../functions/wasm/core/prime.wasm', import.meta.url));
const input = process.argv[3] ? JSON.parse(process.argv[3]) : 100;

const nebula = new Nebula({ builtins: false });
try {
  const [info] = await nebula.deploy({ name: 'my-function', wasm: await readFile(path) });
  console.log(`deployed ${info.name} (${info.artifacts.wasm?.sizeBytes} bytes) on: ${info.runtimes.join(', ')}`);
  const rec = await nebula.invoke('my-function', input);
  console.log(rec.ok ? `result: ${JSON.stringify(rec.result)}` : `failed: ${rec.error.code}: ${rec.error.message}`);

  // Something that is not a command module is refused at deploy time, with a stable code.
  await nebula.deploy({ name: 'broken', wasm: new TextEncoder().encode('not wasm') }).catch((e) => {
    console.log(`refused as expected: ${e.code}: ${e.message}`);
  });
} finally {
  await nebula.close();
}
