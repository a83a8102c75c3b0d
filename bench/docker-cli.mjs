// `docker run --rm -i --network none IMAGE` with `input` on stdin, as a user would type it: the
// wall time from the call to the CLI's exit, ms, and what the function printed.
import { spawn } from 'node:child_process';

export function dockerRun(image, input) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('docker', ['run', '--rm', '-i', '--network', 'none', image], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - t0, out: out.trim() })
        : reject(new Error(`docker run: exit ${code}, printed ${out.trim()}`)),
    );
    p.stdin.end(String(input));
  });
}
