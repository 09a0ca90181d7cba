/**
 * A complete training loop by hand, in PyTorch's habits: parameter groups, AdamW, a warm-up +
 * cosine schedule, gradient clipping, evaluation, and a state dict saved and loaded back.
 *
 *   npm run example -- training-loop
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mg from 'mobilegrad';
import { accuracy, batches, loadDemo, SMOKE } from './lib/demo-data.js';

await mg.init();
mg.seed(0);
const { train, test } = await loadDemo(32);
const [epochs, batchSize] = SMOKE ? [1, 16] : [5, 32];
const model = mg.models.mobilenetV3Small({ numClasses: train.classes.length, bnMomentum: 0.1 });
// Weight decay on conv and linear weights only, not on BatchNorm parameters and biases.
const named = model.namedParameters();
const decay = named.filter(([, p]) => p.shape.length > 1).map(([, p]) => p);
const noDecay = named.filter(([, p]) => p.shape.length === 1).map(([, p]) => p);
const opt = new mg.AdamW([{ params: decay, weightDecay: 0.05 }, { params: noDecay, weightDecay: 0 }], { lr: 3e-3 });
const total = epochs * Math.floor(train.count / batchSize);
const warmup = Math.ceil(total / 10);
const { sequence, linearWarmup, cosineDecay } = mg.schedules;
const scheduler = new mg.LRScheduler(opt, sequence([[linearWarmup({ steps: warmup }), warmup]], cosineDecay({ steps: total - warmup, floor: 0.01 })));

for (let epoch = 1; epoch <= epochs; epoch++) {
  const losses: mg.Tensor[] = [];
  for (const [x, y] of batches(train, batchSize, epoch)) {
    const [loss, norm] = mg.tidy(() => {
      const l = mg.softmaxCrossEntropy(model.call(x), y, { labelSmoothing: 0.1 });
      void l.backward();
      const n = mg.clipGradNorm(model.parameters(), 5); // on the GPU: nothing read back
      opt.step();
      opt.zeroGrad();
      return [l, n];
    });
    scheduler.step();
    losses.push(loss);
    [x, y, norm].forEach((t) => t.release());
  }
  const mean = (await Promise.all(losses.map((l) => l.item()))).reduce((a, b) => a + b, 0) / losses.length;
  losses.forEach((l) => l.release());
  console.log(`epoch ${epoch}: loss ${mean.toFixed(3)}, lr ${scheduler.lastLrs[0]!.toExponential(2)}, test accuracy ${(100 * (await accuracy(model, test))).toFixed(1)} %`);
}

const file = join(tmpdir(), 'mobilegrad-training-loop.safetensors');
writeFileSync(file, await mg.nn.saveStateDict(model));
const copy = mg.models.mobilenetV3Small({ numClasses: train.classes.length });
mg.nn.loadStateDict(copy, readFileSync(file));
console.log(`saved and reloaded ${file}: test accuracy ${(100 * (await accuracy(copy, test))).toFixed(1)} %`);
