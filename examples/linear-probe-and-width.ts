/**
 * Two cheap alternatives to training the full network: a linear probe (a frozen pretrained
 * backbone, only a new last layer trained) and a width-0.5 MobileNetV3-Small trained from scratch,
 * next to the full width-1.0 model, on the same task: their parameter counts, speeds and accuracies.
 *
 * The task is the last four Fashion-MNIST classes (shirt, sneaker, bag, ankle boot). The backbone
 * comes from MOBILEGRAD_PRETRAINED (torchvision's mobilenet_v3_small as safetensors) when set;
 * otherwise it is pretrained here on the other six classes, so the probe transfers features.
 *
 *   npm run example -- linear-probe-and-width
 */
import { readFileSync } from 'node:fs';
import * as mg from 'mobilegrad';
import { accuracy, batches, loadDemo, SMOKE, type Split } from './lib/demo-data.js';

await mg.init();
const size = 32;
const [epochs, batchSize] = SMOKE ? [1, 16] : [4, 32];
const task = await loadDemo(size, { classes: [6, 7, 8, 9] });

/** Trains the parameters that require gradients; returns training images per second. */
async function fit(model: mg.nn.Module, data: Split, epochsToRun: number, frozenBackbone?: mg.nn.Module): Promise<number> {
  const opt = new mg.AdamW(model.parameters().filter((p) => p.requiresGrad), { lr: 2e-3 });
  let images = 0;
  let t0 = 0;
  for (let e = 0; e < epochsToRun; e++) {
    for (const [x, y] of batches(data, batchSize, e)) {
      model.train();
      frozenBackbone?.eval(); // frozen BatchNorm: running statistics stay as pretrained
      mg.tidy(() => {
        const loss = mg.softmaxCrossEntropy(model.call(x), y);
        void loss.backward();
        opt.step();
        opt.zeroGrad();
      });
      [x, y].forEach((t) => t.release());
      if (t0 === 0) {
        await mg.sync(); // the first step compiles pipelines: time from the second
        t0 = performance.now();
      } else images += batchSize;
    }
  }
  await mg.sync();
  opt.dispose();
  return images / ((performance.now() - t0) / 1000);
}

// The pretrained backbone: torchvision's weights, or a model trained on the six other classes.
let weights: Uint8Array;
if (process.env.MOBILEGRAD_PRETRAINED) weights = readFileSync(process.env.MOBILEGRAD_PRETRAINED);
else {
  mg.seed(1);
  const other = await loadDemo(size, { classes: [0, 1, 2, 3, 4, 5] });
  const donor = mg.models.mobilenetV3Small({ numClasses: 6, bnMomentum: 0.1 });
  await fit(donor, other.train, epochs);
  console.log(`pretrained on ${other.train.classes.join(', ')}: test accuracy ${(100 * (await accuracy(donor, other.test))).toFixed(1)} %`);
  weights = await mg.nn.saveStateDict(donor);
  donor.release();
}

const rows: [string, number, number, number, number][] = [];
const report = async (name: string, model: mg.models.MobileNetV3Small, speed: number) => {
  const trainable = model.parameters().filter((p) => p.requiresGrad).reduce((n, p) => n + p.size, 0);
  rows.push([name, model.parameterCount(), trainable, speed, await accuracy(model, task.test)]);
  model.release();
};

// Linear probe: load the backbone (the classifier's last layer is new: other classes), freeze all but it.
mg.seed(2);
const probe = mg.models.mobilenetV3Small({ numClasses: 4, bnMomentum: 0.1 });
const loaded = mg.loadWeights(probe, weights);
console.log(`loaded ${loaded.loaded} tensors; new: ${loaded.reinitialized.join(', ')}`);
probe.setRequiresGrad(false);
probe.classifier.layers[3]!.setRequiresGrad(true);
await report('linear probe', probe, await fit(probe, task.train, epochs, probe.features));

for (const width of [0.5, 1.0]) {
  mg.seed(3);
  const model = mg.models.mobilenetV3Small({ numClasses: 4, widthMultiplier: width, bnMomentum: 0.1 });
  await report(`width ${width.toFixed(1)} from scratch`, model, await fit(model, task.train, epochs));
}

console.log(`\n${task.train.classes.join(', ')}: ${task.train.count} training and ${task.test.count} test images, ${size} px, ${epochs} epoch(s)`);
console.log(`${'model'.padEnd(22)} ${'parameters'.padStart(11)} ${'trained'.padStart(11)} ${'images/s'.padStart(9)} ${'test acc'.padStart(9)}`);
for (const [name, params, trainable, speed, acc] of rows) {
  console.log(`${name.padEnd(22)} ${params.toLocaleString('en').padStart(11)} ${trainable.toLocaleString('en').padStart(11)} ${speed.toFixed(0).padStart(9)} ${(100 * acc).toFixed(1).padStart(8)}%`);
}
