#!/usr/bin/env node
/**
 * `npm run build`: bundles mobilegrad for Node and for browsers, and emits type declarations.
 *
 *   dist/node/index.js        ESM for Node; npm packages (webgpu, pngjs, wgsl_reflect, ...) stay external
 *   dist/node/cli.js          the `mobilegrad` command (only when src/cli/main.ts exists)
 *   dist/bench/bench.js       the benchmark (only when bench/bench.ts exists)
 *   dist/browser/mobilegrad.js  one self-contained ESM file: wgsl_reflect and every WGSL source inlined
 *   dist/types/               .d.ts files (tsc -p tsconfig.build.json --emitDeclarationOnly)
 *   dist/web/                 the training page served by `npm run web` (scripts/build-web.mjs)
 *
 * Flags: --no-types skips the declarations; --only=node|browser|web|types builds one part.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from './build-web.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const wantTypes = !args.includes('--no-types');
const part = (name) => !only || only === name;

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
  legalComments: 'none',
};

const t0 = performance.now();
const done = [];

async function nodeBuilds() {
  rmSync(join(root, 'dist/node'), { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: ['src/node.ts'],
    outfile: 'dist/node/index.js',
    platform: 'node',
    packages: 'external', // webgpu (native), pngjs, wgsl_reflect and any other dependency
  });
  done.push('dist/node/index.js');
  if (existsSync(join(root, 'src/cli/main.ts'))) {
    await build({
      ...common,
      entryPoints: ['src/cli/main.ts'],
      outfile: 'dist/node/cli.js',
      platform: 'node',
      packages: 'external',
      banner: { js: '#!/usr/bin/env node' },
    });
    chmodSync(join(root, 'dist/node/cli.js'), 0o755);
    done.push('dist/node/cli.js');
  } else {
    console.log('build: src/cli/main.ts not present; skipping dist/node/cli.js');
  }
  if (existsSync(join(root, 'bench/bench.ts'))) {
    rmSync(join(root, 'dist/bench'), { recursive: true, force: true });
    await build({
      ...common,
      entryPoints: ['bench/bench.ts'],
      outfile: 'dist/bench/bench.js',
      platform: 'node',
      packages: 'external',
    });
    done.push('dist/bench/bench.js');
  } else {
    console.log('build: bench/bench.ts not present; skipping dist/bench/bench.js');
  }
}

/** Options for a self-contained browser bundle; also used by test/browser/run.mjs. */
export function browserOptions(entry, outfile) {
  return {
    ...common,
    entryPoints: [entry],
    outfile,
    platform: 'browser',
    // Node built-ins would mean something Node-only leaked into the browser graph: fail loudly.
    plugins: [noNodeOnlyModules],
  };
}

const noNodeOnlyModules = {
  name: 'no-node-only-modules',
  setup(b) {
    b.onResolve({ filter: /^(node:|webgpu$|pngjs$|fs$|path$|child_process$|worker_threads$)/ }, (a) => ({
      errors: [{ text: `"${a.path}" (imported by ${a.importer}) is Node-only and must not reach the browser bundle` }],
    }));
  },
};

/** Throws if the browser bundle refers to the native Dawn module. */
export function checkBrowserBundle(file) {
  const text = readFileSync(file, 'utf8');
  const bad = [/dawn\.node/i, /require\(\s*["']webgpu["']\s*\)/, /from\s*["']webgpu["']/, /import\(\s*["']webgpu["']\s*\)/, /["']node:[a-z_]+["']/];
  for (const re of bad) {
    const m = text.match(re);
    if (m) throw new Error(`${file} must not reference Node-only code, found ${JSON.stringify(m[0])}`);
  }
  // Dawn toggle strings (e.g. 'disable-dawn-features=...') are inert text in a browser: only the
  // native module itself (dawn.node) or an import of 'webgpu' would break the bundle.
}

async function browserBuild() {
  rmSync(join(root, 'dist/browser'), { recursive: true, force: true });
  const out = 'dist/browser/mobilegrad.js';
  await build(browserOptions('src/index.ts', out));
  checkBrowserBundle(join(root, out));
  done.push(out);
}

function typeBuild() {
  rmSync(join(root, 'dist/types'), { recursive: true, force: true });
  mkdirSync(join(root, 'dist/types'), { recursive: true });
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`tsc declaration emit failed (exit ${r.status})`);
  // rootDir is the repository root (src/ imports ../kernels), so tsc writes dist/types/src/index.d.ts;
  // package.json's "types" names dist/types/index.d.ts, which re-exports it.
  if (!existsSync(join(root, 'dist/types/src/node.d.ts'))) throw new Error('tsc wrote no dist/types/src/node.d.ts');
  writeFileSync(join(root, 'dist/types/index.d.ts'), "export * from './src/node.js';\n");
  fixDirectoryImports(join(root, 'dist/types'));
  done.push('dist/types/');
}

/**
 * tsc writes inferred types as `import("../src").Kernel`: a directory import that `bundler`
 * resolution accepts but node16/nodenext consumers reject. Point those at the directory's index.js.
 */
function fixDirectoryImports(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) {
      fixDirectoryImports(file);
      continue;
    }
    if (!entry.name.endsWith('.d.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(/import\((["'])(\.{1,2}(?:\/[^"']*)?)\1\)/g, (m, q, spec) => {
      if (/\.(js|mjs|cjs|json)$/.test(spec)) return m;
      const target = resolve(dirname(file), spec);
      if (existsSync(join(target, 'index.d.ts'))) return `import(${q}${spec.replace(/\/$/, '')}/index.js${q})`;
      if (existsSync(`${target}.d.ts`)) return `import(${q}${spec}.js${q})`;
      return m;
    });
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    if (part('node')) await nodeBuilds();
    if (part('browser')) await browserBuild();
    if (part('web')) done.push(await buildWeb(root, common, checkBrowserBundle));
    if (part('types') && wantTypes) typeBuild();
    console.log(`build: ${done.join(', ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    console.error(`build failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
