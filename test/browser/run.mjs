#!/usr/bin/env node
/**
 * Runs the kernel cases (test/cases/all.ts) inside headless Chromium against the browser's own
 * WebGPU (SwiftShader here): bundles test/browser/entry.ts with esbuild, serves it from a tiny
 * static server on 127.0.0.1 (a secure context), drives Debian's /usr/bin/chromium through
 * playwright-core (never downloads a browser), prints one PASS/FAIL line per case.
 *
 *   node test/browser/run.mjs [--json out.json] [--filter text] [--timeout seconds] [--chromium path]
 *
 * Exits 0 only if every case passed, the page made no request outside its own origin and
 * navigator.gpu existed. The JSON summary is {passed, failed, fatal?, foreignRequests, cases: [...]}.
 */
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserOptions, checkBrowserBundle } from '../../scripts/build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : fallback;
}

const jsonPath = option('json');
const filter = option('filter');
const timeoutS = Number(option('timeout', '900'));
const chromiumPath = option('chromium', process.env.MOBILEGRAD_CHROMIUM ?? '/usr/bin/chromium');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-gpu-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const summary = { passed: 0, failed: 0, fatal: undefined, foreignRequests: [], adapter: undefined, cases: [] };
const foreign = new Set();

function writeSummary() {
  if (!jsonPath) return;
  mkdirSync(dirname(resolve(jsonPath)), { recursive: true });
  writeFileSync(resolve(jsonPath), JSON.stringify(summary, null, 2) + '\n');
}

function finish(code) {
  writeSummary();
  process.exitCode = code;
}

async function main() {
  const t0 = performance.now();
  if (!existsSync(chromiumPath)) {
    summary.fatal = `no Chromium at ${chromiumPath} (run: bash scripts/setup-system.sh, which installs Debian's chromium)`;
    return;
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    summary.fatal = `playwright-core is not installed (npm ci): ${e.message}`;
    return;
  }

  // 1. Bundle the suite for the browser (the same esbuild options as dist/browser/mobilegrad.js).
  const work = mkdtempSync(join(tmpdir(), 'mobilegrad-browser-'));
  const bundle = join(work, 'suite.js');
  const cleanups = [() => rmSync(work, { recursive: true, force: true })];
  try {
    await build({ ...browserOptions(join(root, 'test/browser/entry.ts'), bundle), logLevel: 'error' });
    checkBrowserBundle(bundle);
    // The library bundle as `npm run build` ships it (dist/browser/mobilegrad.js), for a smoke test.
    const lib = join(work, 'mobilegrad.js');
    await build({ ...browserOptions(join(root, 'src/index.ts'), lib), logLevel: 'error' });
    checkBrowserBundle(lib);

    // 2. Serve the page and the bundle from 127.0.0.1 on a free port.
    const page = '<!doctype html><meta charset="utf-8"><title>mobilegrad browser suite</title>' +
      '<link rel="icon" href="data:,"><script type="module" src="/suite.js"></script>';
    const files = {
      '/': ['text/html; charset=utf-8', page],
      '/suite.js': ['text/javascript; charset=utf-8', readFileSync(bundle)],
      '/suite.js.map': ['application/json', readFileSync(`${bundle}.map`)],
      '/mobilegrad.js': ['text/javascript; charset=utf-8', readFileSync(lib)],
      '/mobilegrad.js.map': ['application/json', readFileSync(`${lib}.map`)],
    };
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const f = files[path];
      if (req.method !== 'GET' || !f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
    });
    await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    cleanups.push(() => server.close());
    const origin = `http://127.0.0.1:${server.address().port}`;

    // 3. Chromium with a fresh profile; every request is checked against the page's origin.
    const profile = join(work, 'profile');
    mkdirSync(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 120_000,
    });
    cleanups.push(() => context.close().catch(() => {}));
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      let same = false;
      try {
        same = new URL(url).origin === origin;
      } catch {}
      if (same) return route.continue();
      foreign.add(url);
      return route.abort('blockedbyclient');
    });
    context.on('request', (req) => {
      const url = req.url();
      if (url.startsWith('data:') || url.startsWith('blob:')) return;
      try {
        if (new URL(url).origin === origin) return;
      } catch {}
      foreign.add(url);
    });

    const tab = context.pages()[0] ?? (await context.newPage());
    let crashed = null;
    tab.on('crash', () => (crashed = 'the page crashed'));
    tab.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    tab.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('MGCASE ')) {
        const r = JSON.parse(text.slice(7));
        summary.cases.push(r);
        console.log(`${r.ok ? 'PASS' : 'FAIL'} ${r.name} (${r.ms.toFixed(0)} ms)`);
        if (!r.ok) console.log(`     ${String(r.error).replace(/\n/g, '\n     ')}`);
      } else if (text.startsWith('MGSTART ')) {
        const s = JSON.parse(text.slice(8));
        const a = s.report?.adapter ?? {};
        summary.adapter = { ...a, features: s.report?.features, subgroupSize: s.subgroupSize };
        console.log(`browser: ${context.browser()?.version() ?? 'chromium'}; adapter ${a.vendor}/${a.architecture} ` +
          `(${a.description || a.device || 'no description'}), features [${(s.report?.features ?? []).join(', ')}], ` +
          `subgroup size ${s.subgroupSize ? s.subgroupSize.join('-') : '?'}; ${s.cases} cases`);
      } else if (text.startsWith('MGDONE ')) {
        // summary comes from window.__mgSuite
      } else if (msg.type() === 'error' || msg.type() === 'warning') {
        console.log(`console.${msg.type()}: ${text.split('\n')[0].slice(0, 400)}`);
      }
    });

    const url = `${origin}/${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`;
    await tab.goto(url, { waitUntil: 'load', timeout: 60_000 });
    const deadline = Date.now() + timeoutS * 1000;
    let suite;
    while (!suite) {
      if (crashed) throw new Error(crashed);
      if (Date.now() > deadline) throw new Error(`the suite did not finish within ${timeoutS} s`);
      suite = await tab.evaluate(() => window.__mgSuite).catch((e) => {
        throw new Error(`lost the page: ${e.message}`);
      });
      if (!suite) await new Promise((r) => setTimeout(r, 250));
    }
    if (suite.fatal) summary.fatal = suite.fatal;
    // The console stream may lag the final state: trust the page's own list.
    summary.cases = suite.results;
    if (!suite.fatal) {
      const smoke = await bundleSmokeTest(tab);
      summary.cases.push(smoke);
      console.log(`${smoke.ok ? 'PASS' : 'FAIL'} ${smoke.name} (${smoke.ms.toFixed(0)} ms)`);
      if (!smoke.ok) console.log(`     ${smoke.error}`);
    }
    summary.seconds = (performance.now() - t0) / 1000;
  } catch (e) {
    summary.fatal = summary.fatal ?? `browser suite failed: ${e instanceof Error ? e.message : e}`;
  } finally {
    for (const f of cleanups.reverse()) {
      try {
        await f();
      } catch {}
    }
  }
}

/** Loads the shipped library bundle as a page would (`import('/mobilegrad.js')`) and adds two tensors. */
async function bundleSmokeTest(tab) {
  const name = 'bundle: dist/browser/mobilegrad.js imports, initialises and computes in the page';
  const s = performance.now();
  let timer;
  try {
    const got = await Promise.race([
      tab.evaluate(async () => {
        const mg = await import('/mobilegrad.js');
        await mg.init();
        const a = mg.tensor([1, 2, 3, 4, 5], [5]);
        const b = mg.tensor([10, 20, 30, 40, 50], [5]);
        return Array.from(await mg.add(a, b).toArray());
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out after 60 s')), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const want = [11, 22, 33, 44, 55];
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`add gave ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    return { name, ok: true, ms: performance.now() - s };
  } catch (e) {
    return { name, ok: false, error: e instanceof Error ? e.message : String(e), ms: performance.now() - s };
  }
}

await main();
summary.foreignRequests = [...foreign];
summary.passed = summary.cases.filter((c) => c.ok).length;
summary.failed = summary.cases.length - summary.passed;
if (summary.foreignRequests.length) {
  console.log(`FAIL the page made ${summary.foreignRequests.length} request(s) outside its origin:`);
  for (const u of summary.foreignRequests) console.log(`     ${u}`);
  summary.failed += 1;
}
if (summary.fatal) {
  console.log(`FAIL browser suite: ${summary.fatal}`);
  summary.failed += 1;
}
if (!summary.fatal && summary.cases.length === 0) {
  console.log('FAIL browser suite: no cases ran');
  summary.failed += 1;
}
console.log(`browser suite: ${summary.passed} passed, ${summary.failed} failed` +
  (summary.seconds ? ` in ${summary.seconds.toFixed(1)} s` : ''));
finish(summary.failed > 0 ? 1 : 0);
