// What installing nebula-faas costs a user: packs the package (or takes given tarballs), installs
// each into an empty project with `npm install --omit=dev`, and prints the tarball, the packages
// npm added, the size of node_modules (disk use as `du -sk` counts it, and the bytes of the files)
// and the largest packages, and how long `import('nebula-faas')` takes in a fresh node process
// (median of 11, the projects alternating). With two tarballs it prints the ratios.
// Run: node bench/package-size.mjs [--top N] [before.tgz] [after.tgz]
//   no tarball: builds and packs this tree; one: compares it (before) with this tree (after).
//   A before.tgz is `npm pack` of another revision (e.g. a clone at that commit).
// Installs prefer the npm cache (--prefer-offline); a package it lacks comes from the registry.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 8;
const work = mkdtempSync(join(tmpdir(), 'nebula-size-'));

function npm(cwd, ...a) {
  return execFileSync('npm', a, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function packThisTree() {
  npm(root, 'run', 'build');
  const out = JSON.parse(npm(root, 'pack', '--ignore-scripts', '--json', '--pack-destination', work));
  return join(work, out[0].filename);
}

/** Bytes of the files under `dir` (symlinks not followed). */
function bytesUnder(dir) {
  let sum = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sum += bytesUnder(p);
    else sum += lstatSync(p).size;
  }
  return sum;
}

function measure(tarball, label) {
  const project = join(work, label);
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `size-${label}`, private: true }));
  npm(project, 'install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball);
  const nm = join(project, 'node_modules');
  const lock = JSON.parse(readFileSync(join(nm, '.package-lock.json'), 'utf8'));
  const pkgs = Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/'));
  // Size per top-level entry of node_modules (scoped packages one by one), largest first.
  const per = [];
  for (const e of readdirSync(nm)) {
    if (e.startsWith('.')) continue;
    const names = e.startsWith('@') ? readdirSync(join(nm, e)).map((s) => `${e}/${s}`) : [e];
    for (const n of names) per.push([n, bytesUnder(join(nm, n))]);
  }
  per.sort((a, b) => b[1] - a[1]);
  return {
    label,
    tarballBytes: statSync(tarball).size,
    packages: pkgs.length,
    duBytes: Number(execFileSync('du', ['-sk', nm], { encoding: 'utf8' }).split('\t')[0]) * 1024,
    fileBytes: bytesUnder(nm),
    largest: per.slice(0, top),
  };
}

/** Wall time of `node -e "await import('nebula-faas')"` in each project, ms, runs alternating between projects. */
function importTimes(projects, runs = 11) {
  const times = projects.map(() => []);
  const script = "const t = performance.now(); await import('nebula-faas'); console.log(performance.now() - t);";
  for (let i = 0; i < runs; i++)
    for (const [j, p] of projects.entries())
      times[j].push(
        Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: p, encoding: 'utf8' })),
      );
  return times.map(median);
}

const MB = (b) => `${(b / 1e6).toFixed(1)} MB`;
const given = args.map((a) => resolve(a));
const tarballs =
  given.length === 0 ? [packThisTree()] : given.length === 1 ? [given[0], packThisTree()] : given.slice(0, 2);
const labels = tarballs.length === 1 ? ['this-tree'] : ['before', 'after'];
try {
  const results = tarballs.map((t, i) => measure(t, labels[i]));
  const imports = importTimes(labels.map((l) => join(work, l)));
  for (const [i, r] of results.entries()) {
    console.log(`${r.label}: ${basename(tarballs[i])}`);
    console.log(`  tarball ${MB(r.tarballBytes)}; npm install --omit=dev in an empty project: ${r.packages} packages`);
    console.log(`  node_modules: ${MB(r.duBytes)} on disk (du -sk), ${MB(r.fileBytes)} of files`);
    console.log(`  largest: ${r.largest.map(([n, b]) => `${n} ${MB(b)}`).join(', ')}`);
    console.log(`  import('nebula-faas'): median ${imports[i].toFixed(1)} ms`);
  }
  if (results.length === 2) {
    const [a, b] = results;
    console.log(
      `after/before: packages ${b.packages}/${a.packages} = ${(b.packages / a.packages).toFixed(2)}x, ` +
        `disk ${MB(b.duBytes)}/${MB(a.duBytes)} = ${(b.duBytes / a.duBytes).toFixed(2)}x, ` +
        `tarball ${(b.tarballBytes / a.tarballBytes).toFixed(2)}x, import ${imports[1].toFixed(1)}/${imports[0].toFixed(1)} ms = ${(imports[1] / imports[0]).toFixed(2)}x`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
