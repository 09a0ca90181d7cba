#!/usr/bin/env node
/**
 * Builds and runs the programs in examples/ (each bundled with esbuild, `mobilegrad` resolved to
 * this checkout's src/node.ts, source maps on so errors point at the example's own lines).
 *
 *   node scripts/run-examples.mjs [NAME...] [--smoke] [--json FILE]
 *
 * --smoke sets MOBILEGRAD_SMOKE=1: tiny sizes and step counts (CI runs every example this way).
 * Exit status: non-zero if any example failed. --json writes {passed, failed, results}.
 */
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : null;
const names = args.filter((a, i) => !a.startsWith('--') && !(jsonAt >= 0 && i === jsonAt + 1));
const all = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
const chosen = names.length ? names : all;
for (const n of chosen) {
  if (!all.includes(n)) {
    console.error(`no example '${n}' (examples: ${all.join(', ')})`);
    process.exit(2);
  }
}

/** `import 'mobilegrad'` means this checkout's Node entry. */
const mobilegradFromSource = {
  name: 'mobilegrad-from-source',
  setup(b) {
    b.onResolve({ filter: /^mobilegrad$/ }, () => ({ path: join(root, 'src/node.ts') }));
  },
};

/** Bundles one example to dist/examples/NAME.mjs (node_modules resolve from the repository). */
export async function buildExample(name, outDir = join(root, 'dist/examples')) {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [join(root, 'examples', `${name}.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    packages: 'external',
    plugins: [mobilegradFromSource],
    loader: { '.wgsl': 'text' },
    sourcemap: 'inline',
    absWorkingDir: root,
    logLevel: 'error',
  });
  return outfile;
}

function run(file) {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--enable-source-maps', file], {
      cwd: root,
      env: { ...process.env, ...(smoke ? { MOBILEGRAD_SMOKE: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      const s = String(d);
      out += s;
      // Dawn's two notices about dynamic buffer limits are noise here.
      const shown = s.split('\n').filter((l) => !l.startsWith('Warning: maxDynamic')).join('\n');
      if (shown.trim()) process.stderr.write(shown);
    });
    child.on('close', (code, signal) => done({ code, signal, seconds: (performance.now() - t0) / 1000, out }));
  });
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const results = [];
  for (const name of chosen) {
    console.log(`\n== example ${name}${smoke ? ' (smoke)' : ''} ==`);
    let r;
    try {
      r = await run(await buildExample(name));
    } catch (e) {
      r = { code: 1, signal: null, seconds: 0, out: String(e) };
      console.error(`build failed: ${e instanceof Error ? e.message : e}`);
    }
    const ok = r.code === 0;
    console.log(`example ${name}: ${ok ? 'passed' : `FAILED (exit ${r.code ?? r.signal})`} in ${r.seconds.toFixed(1)} s`);
    results.push({ name, ok, seconds: Number(r.seconds.toFixed(1)), exit: r.code });
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ passed, failed, results }, null, 2) + '\n');
  console.log(`\nexamples: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
