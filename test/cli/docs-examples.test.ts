/**
 * Every CLI example in the docs runs, and the output shown under it is what the command prints
 * today (numbers and units aside; table rows of measurements aside, since they vary by machine).
 */
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_NAMES } from '../../src/builtins.js';
import { EXPERIMENT_PHASES } from '../../src/experiment/index.js';
import { packageRoot } from '../../src/paths.js';
import { dockerAvailable } from '../runtimes/docker/engine.js';
import { main } from './run-cli.js';
import { tempDir } from '../temp-dir.js';

interface Example {
  page: string;
  command: string;
  /** The output shown under it. */
  shown: string[];
  /** The exit code a `# exit code N` comment documents; 0 otherwise. */
  code: number;
  /** From a ```sh block: run with --dry-run only (hardware, long runs). */
  dryRun: boolean;
}

const PAGES = ['docs/cli.md', 'docs/experiments.md'];

function examples(page: string): { examples: Example[]; config?: string } {
  const text = readFileSync(join(packageRoot(), page), 'utf8');
  const out: Example[] = [];
  let config: string | undefined;
  for (const m of text.matchAll(/```(console|sh|json)\n([\s\S]*?)```/g)) {
    const [, kind, body] = m;
    if (kind === 'json') {
      if (body!.includes('"$schema"')) config = body;
      continue;
    }
    const lines = body!.replace(/\\\n\s*/g, '').split('\n');
    for (const line of lines) {
      const cmd = /^(?:\$ )?(?:npx )?nebula (.*)$/.exec(line);
      if (kind === 'console' && cmd && line.startsWith('$ ')) {
        const [command, comment] = cmd[1]!.split(/\s+# /);
        out.push({
          page,
          command: command!.trim(),
          shown: [],
          code: Number(/exit code (\d+)/.exec(comment ?? '')?.[1] ?? 0),
          dryRun: false,
        });
      } else if (kind === 'sh' && cmd && /^(npx )?nebula bench /.test(line)) {
        out.push({ page, command: cmd[1]!.trim(), shown: [], code: 0, dryRun: true });
      } else if (kind === 'console' && out.length && line !== '') out[out.length - 1]!.shown.push(line);
    }
  }
  return { examples: out, config };
}

/** A line with its numbers, units and padding taken out. */
const skeleton = (line: string) =>
  line
    .replace(/\d+(\.\d+)?/g, '#')
    .replace(/# (ns|µs|ms|s|fWh|pWh|nWh|µWh|mWh|Wh)\b/g, '# U')
    .replace(/#(s|m#+s)\b/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
/** A table row of measurements (starts with a function's name): its figures vary from run to run. */
const isMeasurementRow = (line: string, names: string[]) =>
  names.some((n) => line.startsWith(`${n} `)) && (line.match(/\d/g) ?? []).length > 2;

/** A progress line inside a phase (printed every few seconds, so not always the same ones); the `done` lines stay. */
const isProgressTick = (line: string) =>
  new RegExp(`^(${EXPERIMENT_PHASES.join('|')}) [\\d.]+/[\\d.]+ .*ETA`).test(line);

/** Splits like a shell would for these examples (single and double quotes, no expansion). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

function run(args: string[], cwd: string, untilLine: boolean): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let text = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 240_000);
    const take = (b: Buffer) => {
      text += b.toString();
      if (untilLine && text.includes('\n')) p.kill('SIGINT');
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
}

describe('the documented CLI examples', () => {
  const docker = dockerAvailable();
  const all = PAGES.map(examples);

  it('show the phases of the runner as it runs them', () => {
    const text = PAGES.map((p) => readFileSync(join(packageRoot(), p), 'utf8')).join('\n');
    for (const m of text.matchAll(/^== (\w+) \(phase (\d+) of (\d+)\)/gm)) {
      expect(m[1]).toBe(EXPERIMENT_PHASES[Number(m[2]) - 1]);
      expect(Number(m[3])).toBe(EXPERIMENT_PHASES.length);
    }
    expect(readFileSync(join(packageRoot(), 'docs/experiments.md'), 'utf8')).toMatch(
      new RegExp(EXPERIMENT_PHASES.map((p) => `\\*\\*${p}\\*\\*`).join('[\\s\\S]*')),
    );
  });

  it('run as documented, in order, in a fresh folder', async () => {
    const cwd = tempDir('docs');
    symlinkSync(join(packageRoot(), 'functions'), join(cwd, 'functions'));
    const config = all.find((a) => a.config)?.config;
    if (config) writeFileSync(join(cwd, 'nebula.config.json'), config);
    const names = [...BUILTIN_NAMES, 'mine'];
    const list = all.flatMap((a) => a.examples);
    expect(list.length).toBeGreaterThan(10);
    for (const ex of list) {
      let args = words(ex.command);
      const longRunning = args[0] === 'serve' || args[0] === 'gude-sim';
      if (longRunning) args = args.map((a, i) => (args[i - 1] === '--port' ? '0' : a));
      const quick = args.includes('--quick');
      if ((ex.dryRun || quick) && !args.includes('--dry-run')) args.push('--dry-run');
      const r = await run(args, cwd, longRunning);
      const where = `${ex.page}: nebula ${ex.command}\n${r.text}`;
      expect(r.code, where).toBe(longRunning ? 0 : ex.code);
      // Docker's rows and ratios are only printed where an engine answers; compare the text there.
      if (ex.dryRun || quick || (!docker && !args.includes('wasm'))) continue;
      const actual = new Set(r.text.split('\n').map(skeleton));
      for (const line of ex.shown)
        if (!isMeasurementRow(line, names) && !isProgressTick(line))
          expect(actual.has(skeleton(line)), `${where}\nnot printed: ${line}`).toBe(true);
    }
  });
});
