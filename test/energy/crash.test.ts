/** What the results file keeps when the host process dies or exits with energy pending (child processes on the built package). */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { InvocationRecord } from '../../src/index.js';
import { tempDir } from '../temp-dir.js';

const dist = pathToFileURL(join(process.cwd(), 'dist', 'index.js')).href;

function script(body: string): { dir: string; file: string; results: string } {
  const dir = tempDir('crash');
  const file = join(dir, 'host.mjs');
  writeFileSync(file, `import { Nebula } from ${JSON.stringify(dist)};\n${body}\n`);
  return { dir, file, results: join(dir, 'records.jsonl') };
}

/** The file's records; a last line cut by the kill is skipped, as readers do. */
function records(file: string): InvocationRecord[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').filter(Boolean);
  return lines.flatMap((l, i) => {
    try {
      return [JSON.parse(l) as InvocationRecord];
    } catch (e) {
      if (i === lines.length - 1 && !text.endsWith('\n')) return [];
      throw e;
    }
  });
}

describe('records and a dying host', () => {
  it('kill -9: every record settled before the kill is in the file; only the last, still pending ones are lost', async () => {
    const s = script(`
const nebula = new Nebula({ resultsFile: process.argv[2] });
nebula.on('invocation:settled', (r) => process.stdout.write('settled ' + r.id + '\\n'));
for (;;) {
  const r = await nebula.invoke('fib', 15);
  process.stdout.write('returned ' + r.id + '\\n');
}`);
    const child = spawn(process.execPath, [s.file, s.results], { stdio: ['ignore', 'pipe', 'inherit'] });
    const returned: string[] = [];
    const settled: string[] = [];
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const [what, id] = buffer.slice(0, nl).split(' ') as [string, string];
          buffer = buffer.slice(nl + 1);
          (what === 'settled' ? settled : returned).push(id);
        }
        if (settled.length >= 40 && returned.length > settled.length) child.kill('SIGKILL');
      });
    });
    const kept = records(s.results).map((r) => r.id);
    expect(settled.length).toBeGreaterThanOrEqual(40);
    // Everything announced as settled was on disk before the announcement.
    for (const id of settled) expect(kept).toContain(id);
    // What is lost is a tail of the returned records (those whose energy was still pending).
    const lost = returned.filter((id) => !kept.includes(id));
    expect(returned.slice(returned.length - lost.length)).toEqual(lost);
    expect(new Set(kept).size).toBe(kept.length);
  });

  it('process.exit() with energy pending: the exit writes the records, saying the meter did not cover them', () => {
    const s = script(`
const nebula = new Nebula({ resultsFile: process.argv[2] });
const a = await nebula.invoke('fib', 10);
const b = await nebula.invoke('fib', 11);
console.log(JSON.stringify([a.id, b.id, a.energyStatus, b.energyStatus]));
process.exit(0);`);
    const r = spawnSync(process.execPath, [s.file, s.results], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const [a, b, statusA, statusB] = JSON.parse(r.stdout) as string[];
    expect([statusA, statusB]).toEqual(['pending', 'pending']);
    const kept = records(s.results);
    expect(kept.map((x) => x.id)).toEqual([a, b]);
    for (const x of kept) {
      expect(x.energyStatus).toBe('unavailable');
      expect(x.energyNote).toMatchObject({
        reason: 'METER_OFF',
        message: expect.stringMatching(/process exited/) as string,
      });
    }
  });

  it('a script that never calls close() still exits on its own (the default meter keeps nothing alive) and keeps its record', () => {
    const s = script(`
const nebula = new Nebula({ resultsFile: process.argv[2] });
const rec = await nebula.invoke('fib', 10);
console.log(rec.id);`);
    const r = spawnSync(process.execPath, [s.file, s.results], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    const kept = records(s.results);
    expect(kept.map((x) => x.id)).toEqual([r.stdout.trim()]);
    expect(kept[0]!.energyStatus).not.toBe('pending');
  });
});
