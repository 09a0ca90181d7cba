/**
 * The browser page's build step (called by scripts/build.mjs; `node scripts/build.mjs --only=web`):
 *
 *   dist/web/index.html, style.css   copied from web/
 *   dist/web/app.js                  the page (web/src/main.ts)
 *   dist/web/worker.js               the training worker (web/src/worker.ts)
 *   dist/web/mobilegrad.js           the library's own browser bundle (dist/browser/mobilegrad.js), unchanged
 *
 * The page and the worker import the library only as src/index.ts, which this build points at
 * ./mobilegrad.js: the page runs the shipped library, not a second copy of it.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/** Builds dist/web from web/ and dist/browser/mobilegrad.js (which must exist). */
export async function buildWeb(root, common, checkBrowserBundle) {
  const lib = join(root, 'dist/browser/mobilegrad.js');
  if (!existsSync(lib)) throw new Error('dist/browser/mobilegrad.js is missing: build the browser bundle first (node scripts/build.mjs --only=browser)');
  const out = join(root, 'dist/web');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const src = join(root, 'src');
  const libraryAsExternal = {
    name: 'library-as-external',
    setup(b) {
      b.onResolve({ filter: /^\.{1,2}\// }, (a) => {
        const target = resolve(a.resolveDir, a.path);
        if (!target.startsWith(src + sep)) return undefined;
        if (target === join(src, 'index.js') || target === join(src, 'index.ts')) return { path: './mobilegrad.js', external: true };
        return { errors: [{ text: `${a.path} (imported by ${a.importer}): web/ must import the library only through src/index.ts, which is the shipped dist/browser/mobilegrad.js` }] };
      });
    },
  };
  await build({
    ...common,
    entryPoints: { app: 'web/src/main.ts', worker: 'web/src/worker.ts' },
    outdir: 'dist/web',
    platform: 'browser',
    plugins: [libraryAsExternal],
  });
  for (const f of ['app.js', 'worker.js']) checkBrowserBundle(join(out, f));
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'web', f), join(out, f));
  copyFileSync(lib, join(out, 'mobilegrad.js'));
  if (existsSync(`${lib}.map`)) copyFileSync(`${lib}.map`, join(out, 'mobilegrad.js.map'));
  return 'dist/web/';
}
