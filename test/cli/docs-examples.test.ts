/**
 * Every example a newcomer follows word for word runs: the CLI examples of the docs, whose shown
 * output is what the command prints today (numbers and units aside; table rows of measurements
 * and lines about the machine's state aside, since they vary), and the code examples of the
 * README, getting-started and the function contract, run as the ES modules they say they are.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_NAMES } from '../../src/builtins.js';
import { EXPERIMENT_PHASES } from '../../src/experiment/index.js';
import { GudeSimulator } from '../../src/meters/gude/index.js';
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

/** Pages whose `nebula` examples run. */
const CLI_PAGES = ['docs/cli.md', 'docs/experiments.md', 'docs/function-contract.md', 'docs/getting-started.md'];
/** Pages whose JavaScript examples run, in the order of the page. */
const CODE_PAGES = ['README.md', 'docs/getting-started.md', 'docs/function-contract.md'];

const read = (page: string) => readFileSync(join(packageRoot(), page), 'utf8');

function examples(page: string): { examples: Example[]; config?: string } {
  const text = read(page);
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
        out.push({ page, command: cmd[1]!.split(/\s+# /)[0]!.trim(), shown: [], code: 0, dryRun: true });
      } else if (kind === 'console' && out.length && line !== '') out[out.length - 1]!.shown.push(line);
    }
  }
  return { examples: out, config };
}

/** The code blocks of a page in a language, in order. */
const blocks = (page: string, lang: string) =>
  [...read(page).matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

/** A line with its numbers, units and padding taken out. */
const skeleton = (line: string) =>
  line
    .replace(/\d+(\.\d+)?(e[-+]?\d+)?/g, '#')
    .replace(/# (ns|µs|ms|s|fWh|pWh|nWh|µWh|mWh|Wh)\b/g, '# U')
    .replace(/#(s|m#+s)\b/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
/**
 * A row of measurements (a table row or an advisor's option, starting with a function's name), or
 * of what a machine holds (nebula clean's list): its figures vary from run to run and machine to machine.
 */
const isMeasurementRow = (line: string, names: string[]) => {
  const row = line.trim().replace(/^best: /, '');
  return (
    (names.some((n) => row.startsWith(`${n} `) || row.startsWith(`${n}(`)) && (row.match(/\d/g) ?? []).length > 2) ||
    /^\w+\s+(cache|image|volume|container)\s/.test(row)
  );
};

/** A progress line inside a phase (printed every few seconds, so not always the same ones); the `done` lines stay. */
const isProgressTick = (line: string) =>
  new RegExp(`^(${EXPERIMENT_PHASES.join('|')}) [\\d.]+/[\\d.]+ .*ETA`).test(line);

/** A line about how busy the machine was, or what that withheld: printed only when it was so. */
const isMachineState = (line: string) =>
  /^(No verdict for|note: [AB] ran on a busy machine|note: the machine's load)/.test(line) ||
  /the machine was busy when the step began/.test(line);

/** Splits like a shell would for these examples (single and double quotes, no expansion). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

function run(
  command: string,
  args: string[],
  cwd: string,
  untilLine: RegExp | undefined,
): Promise<{ code: number | null; text: string; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let text = '';
    let out = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 240_000);
    const take = (b: Buffer) => {
      text += b.toString();
      if (untilLine?.test(text)) p.kill('SIGINT');
    };
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      take(b);
    });
    p.stderr.on('data', take);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, text, out });
    });
  });
}
const nebula = (args: string[], cwd: string, untilLine?: RegExp) =>
  run(process.execPath, [main, ...args], cwd, untilLine);

/**
 * A folder set up as a newcomer's project: the package installed (linked), the repository's
 * functions/ beside it for the paths the examples use, the documented config file, and the C
 * function of the function contract built with the page's own commands.
 */
function project(): string {
  const cwd = tempDir('docs');
  mkdirSync(join(cwd, 'node_modules'));
  symlinkSync(packageRoot(), join(cwd, 'node_modules', 'nebula-faas'));
  symlinkSync(join(packageRoot(), 'functions'), join(cwd, 'functions'));
  const config = CLI_PAGES.map(examples).find((a) => a.config)?.config;
  if (config) writeFileSync(join(cwd, 'nebula.config.json'), config);
  writeFileSync(join(cwd, 'square.c'), blocks('docs/function-contract.md', 'c')[0]!);
  for (const line of blocks('docs/function-contract.md', 'sh').join('\n').split('\n'))
    if (line.startsWith('clang ')) {
      const [cc, ...args] = words(line.replace(/\s+#.*$/, ''));
      execFileSync(cc!, args, { cwd });
    }
  return cwd;
}

describe('the documented examples', () => {
  const docker = dockerAvailable();
  let cwd: string;
  let sim: GudeSimulator;
  let gude: { host: string; port: number };
  beforeAll(async () => {
    cwd = project();
    sim = new GudeSimulator({ trace: 'cpu' });
    gude = await sim.start();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('show the phases of the runner as it runs them: those it plans, numbered without a gap', () => {
    for (const page of CLI_PAGES)
      for (const output of blocks(page, 'console').flatMap((b) => b.split(/^\$ /m))) {
        const phases = [...output.matchAll(/^== (\S+) \(phase (\d+) of (\d+)\)/gm)];
        const names = phases.map((m) => m[1]!);
        expect(names, page).toEqual(EXPERIMENT_PHASES.filter((p) => names.includes(p)));
        phases.forEach((m, i) => expect(`${m[1]} ${m[2]}`, page).toBe(`${m[1]} ${i + 1}`));
        if (phases.length) expect(phases.every((m) => m[3] === phases.at(-1)![3])).toBe(true);
      }
    const experiments = read('docs/experiments.md');
    expect(experiments).toMatch(new RegExp(EXPERIMENT_PHASES.map((p) => `\\*\\*${p}\\*\\*`).join('[\\s\\S]*')));
    expect(experiments).toContain(
      `goes through ${['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'][EXPERIMENT_PHASES.length]} phases`,
    );
  });

  it('run as documented, in order, in a fresh folder', async () => {
    const names = [...BUILTIN_NAMES, 'mine', 'square'];
    const list = CLI_PAGES.flatMap((p) => examples(p).examples);
    expect(list.length).toBeGreaterThan(10);
    for (const ex of list) {
      let args = words(ex.command);
      const longRunning = args[0] === 'serve' || args[0] === 'gude-sim';
      if (longRunning) args = args.map((a, i) => (args[i - 1] === '--port' ? '0' : a));
      const quick = args.includes('--quick');
      if ((ex.dryRun || quick) && !args.includes('--dry-run')) args.push('--dry-run');
      // A long-running command is stopped once it has printed what the page shows.
      const r = await nebula(
        args,
        cwd,
        longRunning ? new RegExp(`(.*\\n){${Math.max(1, ex.shown.length)}}`) : undefined,
      );
      const where = `${ex.page}: nebula ${ex.command}\n${r.text}`;
      expect(r.code, where).toBe(longRunning ? 0 : ex.code);
      // Docker's rows and ratios are only printed where an engine answers; compare the text there.
      if (ex.dryRun || quick || (!docker && !args.includes('wasm'))) continue;
      const actual = new Set(r.text.split('\n').map(skeleton));
      for (const line of ex.shown)
        if (!isMeasurementRow(line, names) && !isProgressTick(line) && !isMachineState(line))
          expect(actual.has(skeleton(line)), `${where}\nnot printed: ${line}`).toBe(true);
    }
  });

  it('run the code examples as ES modules, printing what the pages show', async () => {
    const ran: string[] = [];
    for (const page of CODE_PAGES)
      for (const [i, code] of [...blocks(page, 'js'), ...blocks(page, 'ts')].entries()) {
        if (!code.includes("from 'nebula-faas")) continue; // a fragment, not a program
        if (!docker && code.includes("'docker'")) continue;
        // The one substitution: a Gude simulator on this machine stands in for the PDU, and a
        // shorter baseline for the 30 s one.
        const program = code
          .replace(/host: '10\.0\.0\.7'/g, `host: '${gude.host}', port: ${gude.port}`)
          .replace(/durationMs: 30_000/g, 'durationMs: 1_000');
        const file = `${page.replace(/\W+/g, '-')}-${i}.mjs`;
        writeFileSync(join(cwd, file), program);
        const r = await run(process.execPath, [file], cwd, undefined);
        expect(r.code, `${page}, example ${i + 1}:\n${code}\n${r.text}`).toBe(0);
        ran.push(`${page} ${i}`);
        // The README shows what its example printed: the same lines, numbers aside.
        if (page === 'README.md' && code.includes('nebula.invoke')) {
          const shown = /Printed on a[\s\S]*?```\n([\s\S]*?)```/.exec(read(page))![1]!;
          expect(r.out.trim().split('\n').map(skeleton)).toEqual(shown.trim().split('\n').map(skeleton));
        }
        // The function contract's example prints what its comment says.
        const says = /console\.log\(.*\/\/ (.*)$/m.exec(code)?.[1];
        if (page === 'docs/function-contract.md' && says) expect(r.out.trim().split('\n')).toEqual(says.split(', '));
      }
    expect(ran.length).toBeGreaterThanOrEqual(5);
  });

  it('show an invocation record with the fields a record has', async () => {
    const shown = blocks('docs/getting-started.md', 'jsonc')[0]!;
    const record = JSON.parse((await nebula(['invoke', 'fib', '30', '--json'], cwd)).out) as Record<string, unknown>;
    const doc = JSON.parse(shown.replace(/"sha256:[^"]*"/g, '"x"')) as Record<string, unknown>;
    // Every field shown exists; every field a successful record always has is shown (energyNote, limits are optional).
    const optional = ['energyNote', 'limits', 'error'];
    expect(Object.keys(doc).sort()).toEqual(
      Object.keys(record)
        .filter((k) => !optional.includes(k))
        .sort(),
    );
    const keys = (o: unknown) => Object.keys(o as object).sort();
    expect(keys(doc.timing)).toEqual(keys(record.timing));
    expect(keys(doc.artifact)).toEqual(keys(record.artifact));
  });
});
