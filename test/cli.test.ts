/**
 * The CLI as a user meets it: refusals of bad input (exit code 2, one line, no stack trace),
 * a small training run with its outputs, eval and predict on the result, and resuming a run
 * killed with SIGKILL or stopped with Ctrl-C to the same metrics as an uninterrupted run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, makeDataset, runCli, startCli, type RunResult } from './support/cli.js';

let cli: string;
let data: string;
const CLASSES = ['circle', 'square', 'stripes'];
// Small and fast: 24 images per class at 32 px, batch 8, 3 epochs (a warning: below the range).
const TRAIN = ['--image-size', '32', '--batch-size', '8', '--epochs', '3', '--allow-small', '--seed', '7', '--val-split', '0.25'];

function expectRefusal(r: RunResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning: maxDynamic'));
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(/^mobilegrad: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mg-run-'));
}

function metrics(dir: string): Record<string, number>[] {
  return (JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).epochs as Record<string, number>[]).map(({ seconds, imagesPerSecond, ...rest }) => {
    void seconds;
    void imagesPerSecond;
    return rest;
  });
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const t = Date.now();
  while (!cond()) {
    if (Date.now() - t > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('mobilegrad CLI', () => {
  beforeAll(async () => {
    cli = await buildCli();
    data = makeDataset(CLASSES, 24);
  });

  describe('refuses bad input with one clear line and exit code 2', () => {
    it('missing folder', async () => expectRefusal(await runCli(cli, ['train', '--data', '/nonexistent/photos']), /\/nonexistent\/photos/));
    it('a file instead of a folder', async () => {
      const f = join(tmp(), 'file.txt');
      writeFileSync(f, 'x');
      expectRefusal(await runCli(cli, ['train', '--data', f]), /not a folder|folder/i);
    });
    it('no class subfolders', async () => expectRefusal(await runCli(cli, ['train', '--data', tmp()]), /class/i));
    it('one class only', async () => {
      const d = makeDataset(['only'], 5);
      expectRefusal(await runCli(cli, ['train', '--data', d]), /one class|only one/i);
    });
    it('a class without images', async () => {
      const d = makeDataset(['a', 'b'], 3);
      mkdirSync(join(d, 'empty-class'));
      expectRefusal(await runCli(cli, ['train', '--data', d, '--allow-small']), /empty-class/);
    });
    it('fewer than 200 images, pointing at --allow-small', async () => expectRefusal(await runCli(cli, ['train', '--data', data]), /--allow-small/));
    it('impossible values', async () => {
      expectRefusal(await runCli(cli, ['train', '--data', data, '--batch-size', '0']), /--batch-size/);
      expectRefusal(await runCli(cli, ['train', '--data', data, '--epochs', '-3']), /--epochs/);
      expectRefusal(await runCli(cli, ['train', '--data', data, '--lr', 'fast']), /--lr/);
      expectRefusal(await runCli(cli, ['train', '--data', data, '--bogus']), /unknown option --bogus/);
    });
    it('an --out folder that holds another run', async () => {
      const out = tmp();
      writeFileSync(join(out, 'metrics.json'), '[]');
      expectRefusal(await runCli(cli, ['train', '--data', data, '--allow-small', '--out', out]), /--resume|--force/);
    });
  });

  describe('training, eval and predict', () => {
    let runA: string;
    beforeAll(async () => {
      // A corrupt PNG and a text file are skipped with a warning; the run goes on.
      writeFileSync(join(data, 'circle', 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
      writeFileSync(join(data, 'square', 'notes.txt'), 'not an image');
      runA = tmp();
      const r = await runCli(cli, ['train', '--data', data, ...TRAIN, '--out', runA, '--force', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: skipped 2 file/);
      expect(r.stderr).toMatch(/broken\.png/);
      expect(r.stderr).toMatch(/--epochs 3 is outside the recommended range/);
      const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(summary.epochsRun).toBe(3);
      expect(summary.classes).toEqual(CLASSES);
    });

    it('writes the model, metrics, checkpoint and charts', () => {
      for (const f of ['model.safetensors', 'config.json', 'metrics.json', 'metrics.csv', 'checkpoint.safetensors', 'training-curves.png', 'confusion-matrix.png']) {
        expect(existsSync(join(runA, f)), f).toBe(true);
      }
      const cfg = JSON.parse(readFileSync(join(runA, 'config.json'), 'utf8'));
      expect(cfg.classNames).toEqual(CLASSES);
      expect(cfg.imageSize).toBe(32);
      expect(metrics(runA)).toHaveLength(3);
      expect(readFileSync(join(runA, 'metrics.csv'), 'utf8').split('\n')[0]).toMatch(/^epoch,trainLoss,trainAcc,valLoss,valAcc/);
      const png = PNG.sync.read(readFileSync(join(runA, 'training-curves.png')));
      expect(png.width).toBeGreaterThan(100);
    });

    it('eval and predict read the model', async () => {
      const e = await runCli(cli, ['eval', '--model', runA, '--data', data, '--json']);
      expect(e.code, e.stderr).toBe(0);
      const ev = JSON.parse(e.stdout);
      expect(ev.count).toBe(72);
      expect(ev.accuracy).toBeGreaterThanOrEqual(0);
      const p = await runCli(cli, ['predict', '--model', runA, join(data, 'square', '000.png'), join(data, 'stripes', '001.png'), '--json']);
      expect(p.code, p.stderr).toBe(0);
      const pr = JSON.parse(p.stdout);
      expect(pr).toHaveLength(2);
      expect(pr[0].top).toHaveLength(3);
      const total = pr[0].top.reduce((s: number, t: { probability: number }) => s + t.probability, 0);
      expect(total).toBeCloseTo(1, 4);
      expectRefusal(await runCli(cli, ['predict', '--model', runA, '/nonexistent.png']), /nonexistent\.png/);
      expectRefusal(await runCli(cli, ['eval', '--model', runA]), /--data/);
    });

    it('the same seed gives the same metrics', async () => {
      const again = tmp();
      const r = await runCli(cli, ['train', '--data', data, ...TRAIN, '--out', again, '--force']);
      expect(r.code, r.stderr).toBe(0);
      expect(metrics(again)).toEqual(metrics(runA));
    });

    it('a run killed with SIGKILL mid-epoch resumes to the same metrics', async () => {
      const out = tmp();
      const run = startCli(cli, ['train', '--data', data, ...TRAIN, '--out', out, '--force']);
      // Kill during epoch 2: after epoch 1's checkpoint, once a step of epoch 2 was reported.
      await waitFor(() => /epoch 1: train loss/.test(run.output()) && /epoch 2\/3 \[/.test(run.output()), 120_000);
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal).toBe('SIGKILL');
      expect(metrics(out)).toHaveLength(1);
      const r = await runCli(cli, ['train', '--resume', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/resuming/);
      expect(metrics(out)).toEqual(metrics(runA));
    });

    it('Ctrl-C saves a checkpoint mid-epoch and --resume continues to the same metrics', async () => {
      const out = tmp();
      const run = startCli(cli, ['train', '--data', data, ...TRAIN, '--out', out, '--force']);
      await waitFor(() => /epoch 2\/3 \[/.test(run.output()), 120_000);
      run.child.kill('SIGINT');
      const stopped = await run.done;
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stderr).toMatch(/checkpoint saved/);
      const r = await runCli(cli, ['train', '--resume', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(metrics(out)).toEqual(metrics(runA));
    });

    it('a loss that becomes NaN or infinite stops the run with a clear message', async () => {
      const out = tmp();
      const r = await runCli(cli, ['train', '--data', data, ...TRAIN, '--lr', '1e30', '--out', out, '--force']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/loss became (NaN|Infinity|-Infinity)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
