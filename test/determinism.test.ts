/**
 * Determinism: the same seed on the same adapter gives bit-identical losses and weights over
 * several training steps of the whole MobileNetV3-Small (dropout, AdamW, clipping, a schedule),
 * and another seed does not (so the comparison can fail).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';

beforeAll(async () => {
  await mg.init();
});

async function run(seed: number, steps = 4): Promise<{ losses: number[]; weights: Float32Array }> {
  mg.seed(seed);
  const model = mg.models.mobilenetV3Small({ numClasses: 4 });
  const opt = new mg.AdamW(model.parameters(), { lr: 2e-3 });
  const sched = new mg.LRScheduler(opt, mg.schedules.sequence([[mg.schedules.linearWarmup({ steps: 2 }), 2]], mg.schedules.cosineDecay({ steps: 2 })));
  const x = mg.randn([4, 32, 32, 3], { seed: seed + 1 });
  const y = mg.tensor(Int32Array.from([0, 1, 2, 3]), [4]);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const l = mg.tidy(() => {
      const loss = mg.softmaxCrossEntropy(model.call(x), y, { labelSmoothing: 0.1 });
      void loss.backward();
      mg.clipGradNorm(model.parameters(), 1.0);
      opt.step();
      opt.zeroGrad();
      return loss;
    });
    sched.step();
    losses.push(await l.item());
    l.release();
  }
  const weights = Float32Array.from((await model.parameters()[5]!.toArray()) as Float32Array);
  [x, y].forEach((t) => t.release());
  opt.dispose();
  model.release();
  return { losses, weights };
}

const bits = (xs: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(xs).buffer));

describe('determinism', () => {
  it('the same seed gives bit-identical losses and weights; another seed does not', async () => {
    const a = await run(21);
    const b = await run(21);
    const c = await run(22);
    expect(a.losses.every(Number.isFinite)).toBe(true);
    expect(bits(b.losses)).toEqual(bits(a.losses));
    expect(bits(b.weights)).toEqual(bits(a.weights));
    expect(bits(c.losses)).not.toEqual(bits(a.losses));
  });
});
