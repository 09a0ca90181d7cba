/**
 * Opens the training page (dist/web) in Debian's headless Chromium with SwiftShader WebGPU, for the
 * page test and the screenshot/measurement scripts: serves it on 127.0.0.1, starts Chromium with a
 * fresh profile through playwright-core (never a downloaded browser) and records every request
 * that leaves the page's origin (and blocks it).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { startWebServer } from './web-server.mjs';

export const CHROMIUM = process.env.MOBILEGRAD_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that give headless Chromium WebGPU here (SwiftShader's Vulkan) and keep it off the network. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--disable-gpu-sandbox',
  '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Serves dist/web (or uses `server`) and opens it in a new Chromium profile at `profile` (deleted
 * first); `beforeLoad(tab)` runs before the page loads.
 * Resolves to { server, context, tab, foreign (Set of URLs), close() }.
 */
export async function openPage({ profile, args = CHROMIUM_ARGS, viewport = { width: 1280, height: 900 }, server, beforeLoad } = {}) {
  const { chromium } = await import('playwright-core');
  const srv = server ?? (await startWebServer({ port: 0 }));
  const origin = new URL(srv.url).origin;
  rmSync(profile, { recursive: true, force: true });
  mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, acceptDownloads: true, viewport, timeout: 120_000 });
  const foreign = new Set();
  const local = (url) => url.startsWith('data:') || url.startsWith('blob:') || url.startsWith(origin + '/');
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    foreign.add(url);
    return route.abort('blockedbyclient');
  });
  context.on('request', (req) => {
    if (!local(req.url())) foreign.add(req.url());
  });
  const tab = context.pages()[0] ?? (await context.newPage());
  beforeLoad?.(tab); // e.g. console listeners that must see the first messages
  await tab.goto(srv.url, { waitUntil: 'load' });
  return {
    server: srv,
    context,
    tab,
    foreign,
    close: async () => {
      await context.close().catch(() => {});
      if (!server) await srv.close();
    },
  };
}

/** Polls `fn` until it returns something truthy; throws naming `what` (and the page's status) after `ms`. */
export async function waitFor(what, fn, ms, tab) {
  const t = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t > ms) {
      const status = tab ? await tab.getByTestId('status').textContent().catch(() => '?') : '';
      throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}${tab ? `; status: ${status}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until the page's status ends in "done"; throws on an error status. */
export function waitForDone(tab, ms) {
  return waitFor('training to finish', async () => {
    const s = await tab.getByTestId('status').textContent();
    if (/^Error/.test(s)) throw new Error(`the page reported: ${s}`);
    return /done$/.test(s) && s;
  }, ms, tab);
}
