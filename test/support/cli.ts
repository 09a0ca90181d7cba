/** Builds the CLI once per test file and runs it as a user would (a child process). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { PNG } from 'pngjs';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');

export async function buildCli(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-cli-'));
  const out = join(dir, 'cli.mjs');
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    loader: { '.wgsl': 'text' },
    absWorkingDir: root,
    logLevel: 'error',
  });
  // Resolve the externals (webgpu, pngjs...) from the project's node_modules.
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const { symlinkSync, readdirSync } = await import('node:fs');
  for (const m of readdirSync(join(root, 'node_modules'))) {
    try {
      symlinkSync(join(root, 'node_modules', m), join(dir, 'node_modules', m));
    } catch {
      /* exists */
    }
  }
  return out;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(cli: string, args: string[]): { child: ChildProcess; done: Promise<RunResult>; output: () => string } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<RunResult>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done, output: () => stderr + stdout };
}

export function runCli(cli: string, args: string[]): Promise<RunResult> {
  return startCli(cli, args).done;
}

/**
 * A small synthetic dataset: `perClass` 24x24 PNG images per class, each class a different
 * stripe orientation and colour, with seeded noise, so a few epochs learn something.
 */
export function makeDataset(classes: string[], perClass: number, seed = 1): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-data-'));
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  classes.forEach((c, ci) => {
    mkdirSync(join(dir, c));
    for (let i = 0; i < perClass; i++) {
      const png = new PNG({ width: 24, height: 24 });
      for (let y = 0; y < 24; y++)
        for (let x = 0; x < 24; x++) {
          const stripe = ((ci % 2 ? x : y) + Math.floor(ci / 2) * 3) % 6 < 3 ? 1 : 0;
          const o = (y * 24 + x) * 4;
          const v = 60 + 140 * stripe + 40 * rnd();
          png.data[o] = ci === 2 ? 255 - v : v;
          png.data[o + 1] = v * (0.5 + 0.2 * ci);
          png.data[o + 2] = 255 - v;
          png.data[o + 3] = 255;
        }
      writeFileSync(join(dir, c, `${String(i).padStart(3, '0')}.png`), PNG.sync.write(png));
    }
  });
  return dir;
}
