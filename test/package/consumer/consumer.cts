// A user's CommonJS module: TypeScript compiles this import to require('nebula-faas').
import { Nebula } from 'nebula-faas';

async function main(): Promise<void> {
  const nebula = new Nebula();
  try {
    const rec = await nebula.invoke('prime', 10, { runtime: 'wasm' });
    if (!rec.ok) throw new Error(`${rec.error.code}: ${rec.error.message}`);
    const prime10: number = rec.result;
    // @ts-expect-error prime's result is a number
    const wrong: string = rec.result;
    console.log(JSON.stringify({ prime10, wrong: typeof wrong, entry: require.resolve('nebula-faas') }));
  } finally {
    await nebula.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
