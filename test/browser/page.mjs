#!/usr/bin/env node
/**
 * The training page (dist/web, built by `npm run build`) as a user meets it, in headless Debian
 * Chromium on SwiftShader WebGPU, driven through the page's data-testid contract:
 *
 *  1. a generated folder (3 classes x 20 PNGs, plus a text file and a corrupt PNG) through
 *     `folder-input`: the summary lists classes, counts and skipped files; under 200 images is
 *     refused until "allow small" is ticked;
 *  2. 2 epochs at 32 px in the worker: pause and resume in epoch 1; after epoch 1 the tab is
 *     reloaded and the run resumed from its OPFS checkpoint; `status` ends in "done", `metrics`
 *     holds val_accuracy in [0, 1] and 2 epochs, the training loss fell;
 *  3. `download-model` gives model.safetensors + config.json; Node (lavapipe) loads them with the
 *     library and predicts the same classes (and probabilities within 2e-3) as the page's
 *     "try it" on all 60 images; the same for the int8 model (quantize ticked);
 *  4. a model trained by the CLI loads in the page and the page predicts what Node predicts;
 *  5. no request left 127.0.0.1; a Chromium without WebGPU gets the no-WebGPU message.
 *
 *   node test/browser/page.mjs [--json out.json] [--keep DIR]
 *
 * Exits 0 only if every check passed. JSON: {passed, failed, fatal?, foreignRequests, cases: [...]}.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { CHROMIUM, openPage, waitFor, waitForDone } from '../../scripts/web-browser.mjs';
import { startWebServer } from '../../scripts/web-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const jsonPath = arg('json');
const keepDir = arg('keep');
const CLASSES = ['apple', 'banana', 'cherry'];
const PER_CLASS = 20;

const summary = { passed: 0, failed: 0, fatal: undefined, foreignRequests: [], cases: [] };
const T0 = performance.now();

function record(name, ok, detail = '') {
  summary.cases.push({ name, ok, error: ok ? undefined : detail, ms: performance.now() - T0 });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail && ok ? ` (${detail})` : ''}`);
  if (!ok) console.log(`     ${detail}`);
}

/** 3 classes of 48x40 PNGs told apart by colour and stripe direction, with seeded noise. */
function makeDataset(dir) {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const images = [];
  CLASSES.forEach((cls, ci) => {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const png = new PNG({ width: 48, height: 40 });
      const phase = Math.floor(rnd() * 8);
      for (let y = 0; y < 40; y++)
        for (let x = 0; x < 48; x++) {
          const stripe = (((ci === 1 ? x : y) + phase) >> 2) & 1;
          const o = (y * 48 + x) * 4;
          const v = (c) => Math.min(255, (ci === c ? 170 + 40 * stripe : 30 + 30 * stripe) + Math.floor(rnd() * 40));
          png.data[o] = v(0);
          png.data[o + 1] = v(1);
          png.data[o + 2] = v(2);
          png.data[o + 3] = 255;
        }
      const path = join(dir, cls, `${cls}-${String(i).padStart(2, '0')}.png`);
      writeFileSync(path, PNG.sync.write(png));
      images.push(path);
    }
  });
  writeFileSync(join(dir, 'apple', 'notes.txt'), 'not an image');
  writeFileSync(join(dir, 'banana', 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
  return images;
}

function ensureBuilt() {
  const need = ['dist/web/index.html', 'dist/web/app.js', 'dist/web/worker.js', 'dist/web/mobilegrad.js', 'dist/node/index.js', 'dist/node/cli.js'];
  if (need.every((f) => existsSync(join(root, f)))) return;
  console.log('page test: building (node scripts/build.mjs --no-types)');
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--no-types'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the build failed');
}

function run(cmd, args) {
  return new Promise((ok) => {
    const p = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => ok({ code, out, err }));
  });
}

/** Node's predictions with the library on lavapipe: class probabilities per image path. */
async function nodePredictions(mg, modelDir, dataDir, paths) {
  const { model, config } = await mg.loadModel(modelDir);
  const data = await mg.loadImageFolder(dataDir, { imageSize: config.imageSize, allowSmall: true, cacheDir: null });
  const idx = paths.map((p) => data.paths.indexOf(p));
  if (idx.some((i) => i < 0)) throw new Error('Node did not load every image the page classified');
  const probs = await mg.predictProbabilities(model, data, idx, 16);
  model.release();
  const k = config.numClasses;
  return { config, probs: paths.map((_, j) => Array.from(probs.subarray(j * k, (j + 1) * k))) };
}

/** Compares the page's top-5 lists with Node's probabilities: same best class, close probabilities. */
function comparePredictions(pagePreds, node, paths) {
  let maxDiff = 0;
  const mismatches = [];
  pagePreds.forEach((p, j) => {
    const row = node.probs[j];
    const best = row.indexOf(Math.max(...row));
    if (p.error) mismatches.push(`${paths[j]}: page could not read it (${p.error})`);
    else if (p.top[0].className !== node.config.classNames[best]) mismatches.push(`${paths[j]}: page ${p.top[0].className}, Node ${node.config.classNames[best]}`);
    for (const t of p.top ?? []) maxDiff = Math.max(maxDiff, Math.abs(t.probability - row[node.config.classNames.indexOf(t.className)]));
  });
  return { maxDiff, mismatches };
}

const statusText = (tab) => tab.getByTestId('status').textContent();

/** Clicks a download button and saves the two files it gives into `dir`; returns their names, sorted. */
async function downloadFrom(tab, testId, dir) {
  mkdirSync(dir, { recursive: true });
  const names = [];
  let listener;
  const got = new Promise((ok) => {
    listener = async (d) => {
      await d.saveAs(join(dir, d.suggestedFilename()));
      names.push(d.suggestedFilename());
      if (names.length === 2) ok();
    };
    tab.on('download', listener);
  });
  let timer;
  await tab.getByTestId(testId).click();
  try {
    await Promise.race([got, new Promise((_, no) => (timer = setTimeout(() => no(new Error(`${testId}: two downloads did not arrive within 60 s (got ${names.join(', ') || 'none'})`)), 60_000)))]);
  } finally {
    clearTimeout(timer);
    tab.off('download', listener);
  }
  return names.sort();
}

async function predictInPage(tab, paths) {
  await tab.getByTestId('predictions').evaluate((e) => delete e.dataset.json);
  await tab.getByTestId('predict-input').setInputFiles(paths);
  const json = await waitFor('predictions', async () => {
    const j = await tab.getByTestId('predictions').getAttribute('data-json');
    const text = await tab.getByTestId('predictions').textContent();
    if (!j && /^(Could not|No model|Drop)/.test(text)) throw new Error(`the page did not classify: ${text}`);
    return j;
  }, 120_000, tab);
  return JSON.parse(json);
}

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (bash scripts/setup-system.sh installs Debian's chromium)`);
  ensureBuilt();
  const work = keepDir ? resolve(keepDir) : mkdtempSync(join(tmpdir(), 'mg-page-'));
  mkdirSync(work, { recursive: true });
  const cleanups = [];
  try {
    const dataDir = join(work, 'fruit');
    rmSync(dataDir, { recursive: true, force: true });
    const imagePaths = makeDataset(dataDir);

    // A model trained by the CLI, to load into the page later (runs while Chromium starts).
    const cliModel = join(work, 'cli-model');
    const cliRun = run(process.execPath, [join(root, 'dist/node/cli.js'), 'train', '--data', dataDir, '--out', cliModel, '--image-size', '32', '--batch-size', '8', '--epochs', '1', '--allow-small', '--seed', '3', '--force']);

    const server = await startWebServer({ port: 0 });
    cleanups.push(() => server.close());
    const pageErrors = [];
    const opened = await openPage({
      profile: join(work, 'profile'),
      server,
      beforeLoad: (tab) => {
        tab.on('pageerror', (e) => pageErrors.push(e.message));
        tab.on('console', (m) => {
          if (m.type() !== 'error') return;
          pageErrors.push(m.text());
          console.log(`console.error: ${m.text().slice(0, 2000)}`);
        });
      },
    });
    cleanups.push(() => opened.close());
    const { tab, foreign } = opened;
    const gpu = await waitFor('WebGPU', async () => {
      const t = await tab.getByTestId('gpu-status').textContent();
      return t.startsWith('Looking') ? null : t;
    }, 60_000, tab);
    record('the page finds WebGPU in its worker', /^WebGPU: (?!not)/.test(gpu), gpu);

    // 1. The folder, its summary and the small-dataset refusal.
    await tab.getByTestId('image-size').fill('32');
    await tab.getByTestId('image-size').dispatchEvent('change');
    await tab.getByTestId('folder-input').setInputFiles(dataDir);
    const refusal = await waitFor('the refusal', async () => (await tab.getByTestId('refusals').isVisible()) && (await tab.getByTestId('refusals').textContent()), 10_000, tab);
    record('under 200 images is refused, naming the fix', /Only 6[01] images, fewer than the 200/.test(refusal) && /allow fewer than 200/.test(refusal) && (await tab.getByTestId('train').isDisabled()), refusal);
    await tab.getByTestId('allow-small').check();
    const ready = await waitFor('the images to be decoded', async () => /^Ready/.test(await statusText(tab)), 60_000, tab);
    const summaryText = await tab.getByTestId('summary').textContent();
    const skippedText = await tab.getByTestId('skipped').textContent();
    const thumbs = await tab.locator('.thumbs img').count();
    record('the summary lists classes, counts, thumbnails and skipped files with reasons',
      ready && /3 classes, 60 images/.test(summaryText) && CLASSES.every((c) => summaryText.includes(c)) && /20 images/.test(summaryText) && thumbs === 12 &&
        /notes\.txt: not an image \(\.txt\)/.test(skippedText) && /broken\.png: .*(corrupt|decode)/.test(skippedText) && !(await tab.getByTestId('refusals').isVisible()),
      `summary "${summaryText.replace(/\s+/g, ' ').slice(0, 200)}", ${thumbs} thumbnails, skipped "${skippedText.replace(/\s+/g, ' ').slice(0, 200)}"`);

    // 2. Train: 2 epochs at 32 px, batch 8; pause and resume; reload after epoch 1 and resume.
    await tab.getByTestId('epochs').fill('2');
    await tab.getByTestId('batch-size').fill('8');
    await tab.getByTestId('learning-rate').fill('0.001');
    await tab.getByTestId('quantize').check();
    const warnings = await tab.getByTestId('setting-warnings').textContent();
    record('values outside the recommended ranges warn, as the CLI does', /Epochs 2 is outside the recommended range 10-100/.test(warnings) && /Batch size 8 is outside/.test(warnings), warnings);
    await tab.getByTestId('train').click();
    await waitFor('the first step', async () => {
      if (/^Error/.test(await statusText(tab))) throw new Error(`the page reported: ${await statusText(tab)}`);
      return /step [1-9]/.test(await tab.getByTestId('progress-text').textContent());
    }, 180_000, tab);
    await tab.getByTestId('pause').click();
    const paused = await waitFor('pause', async () => /^Paused/.test(await statusText(tab)) && statusText(tab), 60_000, tab);
    await tab.getByTestId('pause').click(); // now "Resume"
    const resumed = await waitFor('resume', async () => /^Training/.test(await statusText(tab)), 30_000, tab);
    record('Pause stops between steps with a checkpoint; Resume goes on', !!paused && resumed, paused);
    await waitFor('epoch 1 to be checkpointed', async () => /checkpoint saved .* after epoch 1 /.test(await tab.getByTestId('memory').textContent()), 240_000, tab);
    await tab.reload({ waitUntil: 'load' });
    const offer = await waitFor('the resume offer', async () => (await tab.getByTestId('saved-run').isVisible()) && tab.getByTestId('saved-run').textContent(), 30_000, tab);
    record('a reloaded tab offers to resume the run from browser storage', /1 of 2 epochs done/.test(offer), offer.replace(/\s+/g, ' '));
    await tab.getByTestId('resume-saved').click();
    const done = await waitForDone(tab, 300_000);
    const metrics = JSON.parse(await tab.getByTestId('metrics').textContent());
    const h = metrics.history;
    record('status ends in "done" and metrics hold val_accuracy in [0, 1] and the epochs',
      /done$/.test(done) && metrics.val_accuracy >= 0 && metrics.val_accuracy <= 1 && metrics.epochs === 2 && h.length === 2 && metrics.train_images + metrics.val_images === 60,
      `status "${done}", val_accuracy ${metrics.val_accuracy}, epochs ${metrics.epochs}`);
    record('the training loss fell from epoch 1 to epoch 2', h[1].trainLoss < h[0].trainLoss, `train loss ${h.map((e) => e.trainLoss.toFixed(4)).join(' -> ')}, val accuracy ${metrics.val_accuracy}`);
    const confusionCells = await tab.locator('[data-testid=confusion] td').count();
    const perClassRows = await tab.locator('[data-testid=per-class] tr').count();
    record('per-class accuracy and a 3x3 confusion matrix are shown', confusionCells === 9 && perClassRows === 4, `${confusionCells} cells, ${perClassRows} rows`);

    const q = metrics.int8;
    record('quantize gives an int8 model with its size and accuracy next to float32',
      !!q && q.bytes > 0.5e6 && q.bytes < 2.5e6 && q.int8_accuracy >= 0 && q.int8_accuracy <= 1 && q.agreement >= 0 && q.agreement <= 1 && q.images === metrics.val_images,
      q ? `${(q.bytes / 1e6).toFixed(2)} MB, int8 ${q.int8_accuracy}, float ${q.float_accuracy}, agreement ${q.agreement}` : 'no int8 entry in the metrics');

    // 3. Download, load in Node, compare predictions with the page's "try it".
    const fileNames = await downloadFrom(tab, 'download-model', join(work, 'page-model'));
    record('download-model gives model.safetensors and config.json', fileNames.join() === 'config.json,model.safetensors', fileNames.join(', '));
    const pagePreds = await predictInPage(tab, imagePaths);
    const mg = await import(join(root, 'dist/node/index.js'));
    await mg.init();
    const fromPage = comparePredictions(pagePreds, await nodePredictions(mg, join(work, 'page-model'), dataDir, imagePaths), imagePaths);
    record('Node loads the page\'s model and predicts the same classes as the page on all 60 images',
      fromPage.mismatches.length === 0 && fromPage.maxDiff < 2e-3, `max probability difference ${fromPage.maxDiff.toExponential(2)}${fromPage.mismatches.length ? `; ${fromPage.mismatches.slice(0, 3).join('; ')}` : ''}`);

    // 3b. The int8 model: downloaded, loaded back into the page, and in Node (as a CLI model folder).
    const int8Dir = join(work, 'page-int8');
    const int8Names = await downloadFrom(tab, 'download-int8', int8Dir);
    renameSync(join(int8Dir, 'model-int8.safetensors'), join(int8Dir, 'model.safetensors'));
    renameSync(join(int8Dir, 'config-int8.json'), join(int8Dir, 'config.json'));
    await tab.getByTestId('model-input').setInputFiles([join(int8Dir, 'model.safetensors'), join(int8Dir, 'config.json')]);
    await waitFor('the int8 model to load', async () => /^Model loaded \(int8\)/.test(await tab.getByTestId('model-status').textContent()), 60_000, tab);
    const int8Page = comparePredictions(await predictInPage(tab, imagePaths), await nodePredictions(mg, int8Dir, dataDir, imagePaths), imagePaths);
    record('the int8 download loads back in the page and in Node, with the same predictions',
      int8Names.join() === 'config-int8.json,model-int8.safetensors' && int8Page.mismatches.length === 0 && int8Page.maxDiff < 2e-3,
      `${int8Names.join(', ')}; max probability difference ${int8Page.maxDiff.toExponential(2)}${int8Page.mismatches.length ? `; ${int8Page.mismatches.slice(0, 3).join('; ')}` : ''}`);

    // 4. A model trained by the CLI loads in the page and predicts as it does in Node.
    const cli = await cliRun;
    if (cli.code !== 0) throw new Error(`the CLI training failed (exit ${cli.code}): ${cli.err.slice(-400)}`);
    await tab.getByTestId('model-input').setInputFiles([join(cliModel, 'model.safetensors'), join(cliModel, 'config.json')]);
    await waitFor('the CLI model to load', async () => /^Model loaded/.test(await tab.getByTestId('model-status').textContent()), 60_000, tab);
    const cliPagePreds = await predictInPage(tab, imagePaths);
    const fromCli = comparePredictions(cliPagePreds, await nodePredictions(mg, cliModel, dataDir, imagePaths), imagePaths);
    record('a model trained by the CLI loads in the page and predicts what Node predicts',
      fromCli.mismatches.length === 0 && fromCli.maxDiff < 2e-3, `max probability difference ${fromCli.maxDiff.toExponential(2)}${fromCli.mismatches.length ? `; ${fromCli.mismatches.slice(0, 3).join('; ')}` : ''}`);
    record('no errors in the page console', pageErrors.length === 0, pageErrors.slice(0, 3).join(' | '));
    summary.foreignRequests = [...foreign];
    record('no request left the page\'s origin (127.0.0.1)', foreign.size === 0, [...foreign].slice(0, 5).join(', '));
    await opened.close();

    // 5. Without WebGPU: the page says which browsers and flags give it.
    const bare = await openPage({ profile: join(work, 'profile-bare'), server, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-features=WebGPU,Vulkan', '--no-first-run'] });
    cleanups.push(() => bare.close());
    const t2 = bare.tab;
    const msg = await waitFor('the no-WebGPU message', async () => (await t2.getByTestId('no-gpu').isVisible()) && t2.getByTestId('no-gpu').textContent(), 60_000, t2);
    record('without WebGPU the page names the browsers and flags that give it, and cannot start', /Chrome/.test(msg) && /--enable-unsafe-webgpu/.test(msg) && (await t2.getByTestId('train').isDisabled()), msg.slice(0, 160));
  } finally {
    for (const f of cleanups.reverse()) await f();
    if (!keepDir) rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  summary.fatal = e instanceof Error ? e.message : String(e);
}
summary.passed = summary.cases.filter((c) => c.ok).length;
summary.failed = summary.cases.length - summary.passed;
if (summary.fatal) {
  console.log(`FAIL page test: ${summary.fatal}`);
  summary.failed += 1;
}
summary.seconds = (performance.now() - T0) / 1000;
console.log(`page test: ${summary.passed} passed, ${summary.failed} failed in ${summary.seconds.toFixed(0)} s`);
if (jsonPath) {
  mkdirSync(dirname(resolve(jsonPath)), { recursive: true });
  writeFileSync(resolve(jsonPath), JSON.stringify(summary, null, 2) + '\n');
}
process.exit(summary.failed > 0 ? 1 : 0);
