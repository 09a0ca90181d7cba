// Checks that test/support/parity-weights.ts reproduces the deterministic weights and input that
// scripts/make-parity-fixtures.py fed to PyTorch (no GPU needed).
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parityInput, parityStateDict, PARITY_BATCH, PARITY_LABELS, PARITY_SIZE } from './support/parity-weights.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// torchvision's state_dict listing (keys and shapes, 1000 classes), copied from the project's shared reference.
const REFERENCE_LISTING = here('./fixtures/torchvision-mobilenet_v3_small-state_dict.txt');

interface Check { t: number; shape: number[]; sum: number; first: number[] }
const fixture = JSON.parse(readFileSync(here('./fixtures/parity.json'), 'utf8')) as {
  numClasses: number;
  parameterCount: number;
  stateDictTensors: number;
  input: { shape: number[]; labels: number[]; sum: number; first: number[] };
  weightChecks: { tensors: string[]; all: Record<string, Check> };
};

function sum(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

function closeRel(actual: number, expected: number, rel = 1e-6): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('parity weights', () => {
  const dict = parityStateDict(10);

  it('has torchvision\'s keys and shapes, in state_dict order', () => {
    const entries = Object.entries(fixture.weightChecks.all).sort((a, b) => a[1].t - b[1].t);
    expect(dict.size).toBe(fixture.stateDictTensors);
    expect([...dict.keys()]).toEqual(entries.map(([k]) => k));
    for (const [key, check] of entries) expect(dict.get(key)!.shape, key).toEqual(check.shape);
  });

  it('matches the reference state_dict listing adjusted for 10 classes', () => {
    const lines = readFileSync(REFERENCE_LISTING, 'utf8')
      .split('\n')
      .filter((l) => /^(features|classifier)\./.test(l));
    const reference = new Map<string, number[]>();
    for (const line of lines) {
      const [key, shape] = line.split(/\s+(?=\[)/);
      reference.set(key!, JSON.parse(shape!) as number[]);
    }
    reference.set('classifier.3.weight', [10, 1024]);
    reference.set('classifier.3.bias', [10]);
    const ours = [...dict].filter(([k]) => !k.endsWith('.num_batches_tracked'));
    expect(ours.map(([k]) => k)).toEqual([...reference.keys()]);
    for (const [key, t] of ours) expect(t.shape, key).toEqual(reference.get(key));
    const bnCount = [...dict.keys()].filter((k) => k.endsWith('.running_mean')).length;
    expect([...dict.keys()].filter((k) => k.endsWith('.num_batches_tracked')).length).toBe(bnCount);
  });

  it('has 1,528,106 parameters at 10 classes', () => {
    let n = 0;
    for (const [key, t] of dict) {
      if (/\.(running_mean|running_var|num_batches_tracked)$/.test(key)) continue;
      n += t.data.length;
    }
    expect(n).toBe(1_528_106);
    expect(fixture.parameterCount).toBe(1_528_106);
  });

  it('reproduces every tensor: same first values, same sum', () => {
    for (const [key, check] of Object.entries(fixture.weightChecks.all)) {
      const t = dict.get(key)!;
      expect(Array.from(t.data.subarray(0, check.first.length)), key).toEqual(check.first);
      closeRel(sum(t.data), check.sum);
    }
  });

  it('reproduces the three sampled tensors', () => {
    expect(fixture.weightChecks.tensors.length).toBe(3);
    for (const key of fixture.weightChecks.tensors) {
      const check = fixture.weightChecks.all[key]!;
      const t = dict.get(key)!;
      expect(check.first.length).toBe(5);
      for (let i = 0; i < 5; i++) closeRel(t.data[i]!, check.first[i]!);
      closeRel(sum(t.data), check.sum);
    }
  });

  it('builds the input batch in NHWC from the NCHW rule', () => {
    expect(fixture.input.shape).toEqual([PARITY_BATCH, 3, PARITY_SIZE, PARITY_SIZE]);
    expect(fixture.input.labels).toEqual([...PARITY_LABELS]);
    const x = parityInput(PARITY_BATCH, PARITY_SIZE);
    expect(x.length).toBe(PARITY_BATCH * 3 * PARITY_SIZE * PARITY_SIZE);
    closeRel(sum(x), fixture.input.sum);
    // NCHW indices 0..4 are batch 0, channel 0, row 0, columns 0..4: NHWC index x*3.
    expect([0, 1, 2, 3, 4].map((i) => x[i * 3])).toEqual(fixture.input.first);
    // One element off the first row and channel: b=1, c=2, y=5, x=7.
    const S = PARITY_SIZE;
    const i = ((1 * 3 + 2) * S + 5) * S + 7;
    expect(x[((1 * S + 5) * S + 7) * 3 + 2]).toBe(Math.fround(0.5 * Math.sin(0.05 * i + 0.3)));
  });
});
