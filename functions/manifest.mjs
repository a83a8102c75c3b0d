// Writes or checks functions/manifest.json for build.sh: each artifact's compiler, flags, target,
// libc, the SIMD the vectoriser may use, size and sha256, and the sha256 of the sources they were built from.
// Usage: node manifest.mjs <artifacts.tsv> <built-dir> <manifest.json> write|check
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [tsv, builtDir, manifestPath, mode] = process.argv.slice(2);
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const sources = Object.fromEntries(
  readdirSync('src')
    .filter((f) => /\.[ch]$/.test(f))
    .sort()
    .map((f) => [`src/${f}`, sha256(readFileSync(join('src', f)))]),
);
const artifacts = readFileSync(tsv, 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [path, fn, kind, target, arch, compiler, flags, libc, simd] = line.split('\t');
    const bytes = readFileSync(join(builtDir, path));
    return { path, function: fn, kind, target, arch, compiler, flags, libc, simd, bytes: bytes.length, sha256: sha256(bytes) };
  });
const manifest = {
  about: 'The built-in functions: how each artifact was built (by build.sh) and its sha256. Rebuild: npm run build:functions; verify: bash functions/build.sh --check.',
  sources,
  artifacts,
};

const old = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : { sources: {}, artifacts: [] };
const before = new Map(old.artifacts.map((a) => [a.path, a]));
const changed = [];
for (const a of artifacts) {
  const o = before.get(a.path);
  if (!o) changed.push(`${a.path}: new`);
  else if (o.sha256 !== a.sha256) {
    const why = ['compiler', 'flags', 'libc'].filter((k) => o[k] !== a[k]);
    changed.push(`${a.path}: sha256 differs${why.length ? ` (${why.map((k) => `${k} was "${o[k]}"`).join('; ')})` : ''}`);
  }
  before.delete(a.path);
}
for (const path of before.keys()) changed.push(`${path}: in the manifest, no longer built`);
const sourceChanges = Object.keys(sources).filter((f) => old.sources[f] !== sources[f]);

if (mode === 'check') {
  if (changed.length === 0 && sourceChanges.length === 0) {
    console.log(`manifest.json: all ${artifacts.length} artifacts rebuilt bit for bit from the recorded sources.`);
  } else {
    if (sourceChanges.length) console.error(`sources differ from the manifest: ${sourceChanges.join(', ')}`);
    for (const c of changed) console.error(c);
    console.error(`manifest.json: ${changed.length} of ${artifacts.length} artifacts differ; run npm run build:functions and commit the result.`);
    process.exit(1);
  }
} else {
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  if (changed.length === 0) console.log(`manifest.json: all ${artifacts.length} artifacts identical to the previous build.`);
  else for (const c of changed) console.log(c);
}
