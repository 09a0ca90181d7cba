#!/usr/bin/env node
/**
 * Screenshots of the training page before, during and after training, for docs/browser.md:
 * 500 Fashion-MNIST demo images (10 classes), 32 px, batch 16, 10 epochs, quantize on, in
 * headless Chromium (SwiftShader WebGPU). Needs `npm run build` first.
 *
 *   node scripts/web-screenshots.mjs [--out docs/screenshots]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoSubset } from './demo-subset.mjs';
import { openPage, waitFor, waitForDone } from './web-browser.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--out');
const out = resolve(i >= 0 ? process.argv[i + 1] : join(root, 'docs/screenshots'));
mkdirSync(out, { recursive: true });

const work = mkdtempSync(join(tmpdir(), 'mg-shots-'));
const page = await openPage({ profile: join(work, 'profile'), viewport: { width: 1280, height: 900 } });
const { tab } = page;
try {
  const data = demoSubset(500, join(work, 'fashion-500'));
  const tryImages = demoSubset(4, join(work, 'try'), 'test');
  await waitFor('WebGPU', async () => /^WebGPU: (?!not)/.test(await tab.getByTestId('gpu-status').textContent()), 60_000, tab);
  await tab.getByTestId('image-size').fill('32');
  await tab.getByTestId('image-size').dispatchEvent('change');
  await tab.getByTestId('epochs').fill('10');
  await tab.getByTestId('batch-size').fill('16');
  await tab.getByTestId('quantize').check();
  await tab.getByTestId('folder-input').setInputFiles(data);
  await waitFor('the images', async () => /^Ready/.test(await tab.getByTestId('status').textContent()), 120_000, tab);
  await tab.evaluate(() => document.querySelectorAll('.thumbs img').forEach((i) => (i.loading = 'eager')));
  await tab.waitForTimeout(500);
  await tab.screenshot({ path: join(out, 'page-before.png'), fullPage: true });
  console.log(`wrote ${join(out, 'page-before.png')}`);

  await tab.getByTestId('train').click();
  await waitFor('epoch 5', async () => /Epoch 5 of 10 · step (1[2-9]|2\d)/.test(await tab.getByTestId('progress-text').textContent()), 900_000, tab);
  await tab.screenshot({ path: join(out, 'page-during.png'), fullPage: true });
  console.log(`wrote ${join(out, 'page-during.png')}`);

  const status = await waitForDone(tab, 900_000);
  const files = [];
  for (const c of readdirSync(tryImages)) for (const f of readdirSync(join(tryImages, c))) files.push(join(tryImages, c, f));
  await tab.getByTestId('predict-input').setInputFiles(files);
  await waitFor('predictions', () => tab.getByTestId('predictions').getAttribute('data-json'), 120_000, tab);
  await tab.waitForTimeout(500);
  await tab.screenshot({ path: join(out, 'page-after.png'), fullPage: true });
  console.log(`wrote ${join(out, 'page-after.png')}`);
  console.log(status);
  console.log(await tab.getByTestId('model-status').textContent());
  if (page.foreign.size) console.log(`WARNING: requests outside the origin: ${[...page.foreign].join(', ')}`);
} finally {
  await page.close();
  rmSync(work, { recursive: true, force: true });
}
