#!/usr/bin/env node
/**
 * Opens a report.html in Debian's headless Chromium (never a downloaded browser) and saves a
 * full-page screenshot: how docs/screenshots/report.png is made.
 *
 *   node scripts/screenshot-report.mjs runs/<run>/report.html docs/screenshots/report.png [--width 1200]
 *
 * The page is opened from file:// with networking disabled, which also shows that the report
 * needs nothing from the network.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [input, output] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const widthArg = process.argv.indexOf('--width');
const width = widthArg > 0 ? Number(process.argv[widthArg + 1]) : 1200;
if (!input || !output) {
  process.stderr.write('usage: node scripts/screenshot-report.mjs REPORT.html OUT.png [--width 1200]\n');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.MOBILEGRAD_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const context = await browser.newContext({ viewport: { width, height: 900 }, offline: true });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
  await page.goto(pathToFileURL(resolve(input)).href, { waitUntil: 'load' });
  const broken = await page.evaluate(() => [...document.images].filter((i) => !(i.complete && i.naturalWidth > 0)).length);
  await page.screenshot({ path: output, fullPage: true });
  process.stdout.write(`${output}: ${await page.evaluate(() => document.images.length)} images (${broken} broken), ${requests.length} network requests\n`);
  if (broken || requests.length) process.exitCode = 1;
} finally {
  await browser.close();
}
