/**
 * `mobilegrad bench`: one JSON line with the steady-state numbers, plain refusals for bad input
 * and for --precision f16. Only the shape of the answer is checked, never a speed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from './support/cli.js';

let cli = '';
beforeAll(async () => {
  cli = await buildCli();
});

describe('mobilegrad bench', () => {
  it('train and infer print one JSON line with images_per_second and ms_per_step', async () => {
    for (const task of ['train', 'infer']) {
      const r = await runCli(cli, ['bench', '--task', task, '--image-size', '32', '--batch-size', '2', '--steps', '2', '--warmup', '3', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const m = JSON.parse(lines[0]!);
      expect(m).toMatchObject({ task, image_size: 32, batch_size: 2, precision: 'f32', replay: true, steps: 2, warmup: 3 });
      for (const k of ['images_per_second', 'ms_per_step', 'js_ms_per_step', 'dispatches_per_step', 'submits_per_step', 'peak_gpu_bytes']) {
        expect(typeof m[k], k).toBe('number');
        expect(m[k], k).toBeGreaterThan(0);
      }
      expect(m.images_per_second).toBeCloseTo((2 / m.ms_per_step) * 1000, 6);
      // Training steps are pipelined as the trainer runs them; inference latency is not.
      expect(m.pipelined).toBe(task === 'train');
    }
    const seq = await runCli(cli, ['bench', '--task', 'train', '--image-size', '32', '--batch-size', '2', '--steps', '1', '--warmup', '2', '--sequential', '--json']);
    expect(seq.code, seq.stderr).toBe(0);
    expect(JSON.parse(seq.stdout)).toMatchObject({ pipelined: false, steps: 1 });
  });

  it('--eager measures the eager path; --unfused the separate inference kernels', async () => {
    const r = await runCli(cli, ['bench', '--task', 'infer', '--image-size', '32', '--batch-size', '1', '--steps', '1', '--warmup', '1', '--eager', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ replay: false, fused: true });
    const u = await runCli(cli, ['bench', '--task', 'infer', '--image-size', '32', '--batch-size', '1', '--steps', '1', '--warmup', '1', '--unfused', '--json']);
    expect(u.code, u.stderr).toBe(0);
    const sep = JSON.parse(u.stdout);
    expect(sep.fused).toBe(false);
    // 34 Conv-BN layers and 6 residual adds each run a dispatch of their own when not fused.
    expect(sep.dispatches_per_step).toBeGreaterThanOrEqual(JSON.parse(r.stdout).dispatches_per_step + 40);
  });

  it('refuses f16 plainly, and bad values with exit code 2', async () => {
    const f16 = await runCli(cli, ['bench', '--task', 'train', '--precision', 'f16', '--json']);
    expect(f16.code).toBe(2);
    expect(f16.stderr).toMatch(/f16 is not available/);
    const bad = await runCli(cli, ['bench', '--task', 'fly']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--task must be train or infer/);
    const size = await runCli(cli, ['bench', '--image-size', '7']);
    expect(size.code).toBe(2);
    const unfused = await runCli(cli, ['bench', '--task', 'train', '--unfused']);
    expect(unfused.code).toBe(2);
    expect(unfused.stderr).toMatch(/--unfused applies to --task infer/);
    const seq = await runCli(cli, ['bench', '--task', 'infer', '--sequential']);
    expect(seq.code).toBe(2);
    expect(seq.stderr).toMatch(/--sequential applies to --task train/);
    expect(seq.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
