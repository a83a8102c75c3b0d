// The installed package without its optional peer dependency @bytecodealliance/jco-transpile:
// every built-in runs on Wasm, a preview1 module deploys, and the native WASI 0.2 component given
// as argv[2] is either refused with the error the deploy gives or run (once jco-transpile is installed).
import { readFile } from 'node:fs/promises';
import { Nebula, NebulaError } from 'nebula-faas';

const nebula = new Nebula({ builtins: true });
try {
  const inputs: Record<string, unknown> = { fib: 20, exponential: 1, factorial: 10, prime: 10, hash: 1 };
  const builtins: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(inputs)) {
    const rec = await nebula.invoke(name, input, { runtime: 'wasm' });
    builtins[name] = rec.ok ? rec.result : rec.error.code;
  }
  let jcoTranspile = 'resolved';
  try {
    import.meta.resolve('@bytecodealliance/jco-transpile');
  } catch (e) {
    jcoTranspile = String((e as { code?: string }).code);
  }
  const wasm = await readFile(process.argv[2]!);
  const native = await nebula.deploy({ name: 'native', wasm }).then(
    async () => ({ deployed: true, ok: (await nebula.invoke('native', null)).ok }),
    (e: unknown) => (e instanceof NebulaError ? { code: e.code, message: e.message } : { thrown: String(e) }),
  );
  console.log(JSON.stringify({ builtins, jcoTranspile, native }));
} finally {
  await nebula.close();
}
