#!/usr/bin/env node
/**
 * `npm run web`: serves the training page (dist/web, built by `npm run build`) on 127.0.0.1.
 *
 *   node scripts/web-server.mjs [--port 8080] [--dir dist/web]     (--port 0 picks a free port)
 *
 * 127.0.0.1 is a secure context, so browsers give the page WebGPU and OPFS without https. Every
 * response carries a Content-Security-Policy that allows nothing beyond this origin (the page
 * cannot send images anywhere even if it tried) and cross-origin isolation headers (precise
 * timers, memory measurement).
 */
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * Starts the server on `host:port` (port 0: a free one) serving `dir`.
 * Resolves to { url, port, close() }.
 */
export async function startWebServer({ dir = join(root, 'dist/web'), port = 8080, host = '127.0.0.1' } = {}) {
  const base = resolve(dir);
  if (!existsSync(join(base, 'index.html'))) {
    throw new Error(`${join(base, 'index.html')} not found: build the page first with \`npm run build\``);
  }
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(`not found: ${path}\n`);
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise((ok, fail) => {
    server.once('error', (e) => {
      if (e.code === 'EADDRINUSE') fail(new Error(`port ${port} on ${host} is in use: pass another with --port N (--port 0 picks a free one)`));
      else fail(e);
    });
    server.listen(port, host, ok);
  });
  const actual = server.address().port;
  return { url: `http://${host}:${actual}/`, port: actual, close: () => new Promise((ok) => server.close(() => ok())) };
}

function option(name) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log('usage: npm run web -- [--port 8080] [--dir dist/web]\nServes the training page on 127.0.0.1 (run `npm run build` first). --port 0 picks a free port.');
    process.exit(0);
  }
  const portText = option('port') ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(portText)}: for example --port 8080`);
    process.exit(2);
  }
  try {
    const s = await startWebServer({ port, dir: option('dir') });
    console.log(`mobilegrad page: ${s.url}  (Ctrl-C stops the server; open it in Chrome or Edge 113+, or Chromium with --enable-unsafe-webgpu)`);
  } catch (e) {
    console.error(`web: ${e.message}`);
    process.exit(2);
  }
}
