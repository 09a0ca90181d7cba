/** `mobilegrad train --profile [--trace FILE]`: the table of one step, the trace file, refusals. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, makeDataset, runCli } from './support/cli.js';

let cli: string;
let data: string;

beforeAll(async () => {
  cli = await buildCli();
  data = makeDataset(['a', 'b', 'c'], 6, 3);
});

describe('train --profile', () => {
  it('prints the per-kernel table of one training step and writes the trace', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'mg-prof-')), 'trace.json');
    const r = await runCli(cli, ['train', '--data', data, '--allow-small', '--image-size', '32', '--batch-size', '4', '--profile', '--trace', trace]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/profiling one training step: 32 px, batch 4, 3 classes/);
    expect(r.stdout).toMatch(/^one training step \(32 px, batch 4\): (\d+) dispatches, GPU [\d.]+ ms/);
    expect(r.stdout).toMatch(/\ngemm +\d+ /);
    // The optimizer is in the table (its vec4 kernel over five parameters: 28 calls; the groups of
    // other sizes may rank below the 40 kernels the table lists).
    expect(r.stdout).toMatch(/\nadam_step5_v4 +\d+ /);
    expect(r.stdout).toMatch(/\nloss \d+\.\d{4}\n/);
    const dispatches = Number(r.stdout.match(/: (\d+) dispatches/)![1]);
    const doc = JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: { ph: string }[] };
    expect(doc.traceEvents.filter((e) => e.ph === 'X').length).toBe(dispatches);
    expect(r.stdout).toMatch(new RegExp(`${dispatches} GPU dispatch spans over`));
  });

  it('refuses --trace without --profile (exit 2, one line)', async () => {
    const r = await runCli(cli, ['train', '--data', data, '--allow-small', '--trace', '/tmp/x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mobilegrad: --trace FILE goes with --profile/);
  });
});
