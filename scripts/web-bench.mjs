#!/usr/bin/env node
/**
 * Training speed and memory of the browser page (headless Chromium, SwiftShader WebGPU here)
 * next to the CLI (Node, Dawn on lavapipe here) at the same settings on the same folder.
 *
 *   node scripts/web-bench.mjs [--images 300] [--image-size 32] [--batch-size 16] [--epochs 3]
 *                              [--stop-after-steps N] [--no-cli] [--data DIR] [--json out.json]
 *
 * The folder is the first --images of the Fashion-MNIST subset in data/fashion-mnist/train
 * (spread over its 10 classes) unless --data is given. Speed is each epoch's images/s as both
 * trainers record it (training images / epoch seconds, BatchNorm recalibration and evaluation
 * included); the first epoch includes compiling the kernels, so later epochs are the steady state.
 * Memory: the peak proportional set size (PSS) of all Chromium processes (browser, page and worker,
 * GPU process holding SwiftShader's buffers), sampled each second, and the page's own count of
 * image and GPU bytes.
 * Needs `npm run build` first.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoSubset } from './demo-subset.mjs';
import { openPage, waitFor, waitForDone } from './web-browser.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const images = Number(opt('images', '300'));
const size = Number(opt('image-size', '32'));
const batch = Number(opt('batch-size', '16'));
const epochs = Number(opt('epochs', '3'));
const stopAfter = Number(opt('stop-after-steps', '0'));
const withCli = !process.argv.includes('--no-cli');

/** Proportional set size (bytes; shared pages split between their users, so summing does not double count) of a process. */
function pss(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // the process ended
  }
}

/** Memory (PSS, bytes) of the Chromium started with `profile` and all its child processes. */
function chromiumRss(profile) {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const procs = out.split('\n').map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/)).filter(Boolean)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), rss: Number(m[3]) * 1024, args: m[4] }));
  const mine = new Set(procs.filter((p) => p.args.includes(`--user-data-dir=${profile}`) && !p.args.includes('--type=')).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) (mine.add(p.pid), (grew = true));
  }
  return procs.filter((p) => mine.has(p.pid)).reduce((a, p) => a + pss(p.pid), 0);
}

async function pageRun(data, work) {
  const profile = join(work, 'profile');
  const page = await openPage({ profile });
  const { tab } = page;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, chromiumRss(profile))), 1000);
  try {
    await waitFor('WebGPU', async () => /^WebGPU: (?!not)/.test(await tab.getByTestId('gpu-status').textContent()), 60_000, tab);
    const idle = chromiumRss(profile);
    await tab.getByTestId('image-size').fill(String(size));
    await tab.getByTestId('image-size').dispatchEvent('change');
    await tab.getByTestId('epochs').fill(String(epochs));
    await tab.getByTestId('batch-size').fill(String(batch));
    if (images < 200) await tab.getByTestId('allow-small').check();
    const t0 = performance.now();
    await tab.getByTestId('folder-input').setInputFiles(data);
    await waitFor('the images to be decoded', async () => /^Ready/.test(await tab.getByTestId('status').textContent()), 1_800_000, tab);
    const decodeSeconds = (performance.now() - t0) / 1000;
    const afterDecode = chromiumRss(profile);
    await tab.getByTestId('train').click();
    // Long runs (the 5,000-image one takes over an hour) report their progress once a minute.
    const heartbeat = setInterval(async () => {
      const p = await tab.getByTestId('progress-text').textContent().catch(() => '?');
      console.error(`[${new Date().toISOString().slice(11, 19)}] ${p}; Chromium ${mb(chromiumRss(profile))}, peak ${mb(peak)}`);
    }, 60_000);
    if (stopAfter > 0) {
      await waitFor(`${stopAfter} steps`, async () => {
        const m = (await tab.getByTestId('progress-text').textContent()).match(/step (\d+) of/);
        return m && Number(m[1]) >= stopAfter;
      }, 3_600_000, tab);
      await tab.getByTestId('stop').click();
    }
    await waitForDone(tab, 4 * 3_600_000).finally(() => clearInterval(heartbeat)); // one epoch of 5,000 images at 224 px takes about an hour on SwiftShader
    const metrics = JSON.parse(await tab.getByTestId('metrics').textContent());
    const memoryLine = await tab.getByTestId('memory').textContent();
    const progress = await tab.getByTestId('progress-text').textContent();
    return { metrics, decodeSeconds, rss: { idle, afterDecode, peak }, memoryLine, progress, foreign: [...page.foreign] };
  } finally {
    clearInterval(sampler);
    await page.close();
  }
}

function cliRun(data, work) {
  const out = join(work, 'cli');
  const args = [join(root, 'dist/node/cli.js'), 'train', '--data', data, '--out', out, '--image-size', String(size), '--batch-size', String(batch), '--epochs', String(epochs), '--force', '--json'];
  if (images < 200) args.push('--allow-small');
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.on('close', (code) => {
      if (code !== 0) return fail(new Error(`the CLI exited with ${code}: ${stderr.slice(-500)}`));
      const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      ok({ summary: JSON.parse(stdout.trim().split('\n').pop()), history: Array.isArray(metrics) ? metrics : metrics.epochs });
    });
  });
}

const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
const rate = (h) => h.map((e) => e.imagesPerSecond.toFixed(1)).join(', ');

const work = mkdtempSync(join(tmpdir(), 'mg-webbench-'));
try {
  const data = opt('data') ? resolve(opt('data')) : join(work, 'data');
  if (!opt('data')) demoSubset(images, data);
  if (!existsSync(join(root, 'dist/web/index.html'))) throw new Error('dist/web is missing: run `npm run build` first');
  console.log(`settings: ${images} images, ${size} px, batch ${batch}, ${epochs} epochs${stopAfter ? `, stopped after ${stopAfter} steps` : ''}`);
  const page = await pageRun(data, work);
  console.log(`page (Chromium, SwiftShader): images/s per epoch ${rate(page.metrics.history)}; overall ${page.metrics.images_per_second.toFixed(1)} (training steps only); decode ${page.decodeSeconds.toFixed(1)} s`);
  console.log(`page memory: Chromium processes ${mb(page.rss.idle)} idle, ${mb(page.rss.afterDecode)} after decoding, ${mb(page.rss.peak)} peak; the page: ${page.memoryLine}`);
  if (page.foreign.length) console.log(`WARNING: requests outside the origin: ${page.foreign.join(', ')}`);
  let cli = null;
  if (withCli) {
    cli = await cliRun(data, work);
    console.log(`CLI (Node, lavapipe): images/s per epoch ${rate(cli.history)}; overall ${cli.summary.imagesPerSecond.toFixed(1)} (training steps only)`);
  }
  const json = opt('json');
  if (json) writeFileSync(resolve(json), JSON.stringify({ settings: { images, size, batch, epochs, stopAfter }, page, cli }, null, 2) + '\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}
