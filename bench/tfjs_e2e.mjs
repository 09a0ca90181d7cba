#!/usr/bin/env node
/**
 * TensorFlow.js side of the end-to-end benchmark (bench/e2e.ts --tfjs): MobileNetV3-Small built
 * from tfjs-core ops (torchvision's block table: expand 1x1, depthwise, squeeze-excitation,
 * project 1x1, BatchNorm with batch statistics in training, h-swish, residuals, dropout 0.2 in the
 * head), trained with tf.train.adam (tfjs has no AdamW) on the WebGPU backend over dawn.node,
 * the same adapter as mobilegrad. Batches are already on the GPU. Prints one JSON object.
 *
 * usage: node tfjs_e2e.mjs --modules DIR [--steps 3] [--warmup 2] [--only train224,train64,infer1,infer32]
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { create, globals } from 'webgpu';

const argv = process.argv.slice(2);
const opt = (name, d) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : d;
};
const modules = resolve(opt('modules', process.cwd()));
const steps = Number(opt('steps', 3));
const warmup = Number(opt('warmup', 2));
const only = new Set(opt('only', 'train224,train64,infer1,infer32').split(','));
const CLASSES = 10;

Object.assign(globalThis, globals);
const gpu = create([]); // held for the life of the process (Dawn crashes if it is collected)
globalThis.navigator = { gpu };
const require = createRequire(join(modules, 'package.json'));
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-webgpu');
await tf.setBackend('webgpu');
await tf.ready();

// (kernel, expanded, out, squeeze-excitation, h-swish, stride), torchvision's mobilenet_v3_small.
const BLOCKS = [
  [3, 16, 16, true, false, 2], [3, 72, 24, false, false, 2], [3, 88, 24, false, false, 1],
  [5, 96, 40, true, true, 2], [5, 240, 40, true, true, 1], [5, 240, 40, true, true, 1],
  [5, 120, 48, true, true, 1], [5, 144, 48, true, true, 1], [5, 288, 96, true, true, 2],
  [5, 576, 96, true, true, 1], [5, 576, 96, true, true, 1],
];
const divisible = (v) => {
  const r = Math.max(8, Math.floor(v / 8 + 0.5) * 8);
  return r < 0.9 * v ? r + 8 : r;
};

function buildModel() {
  const vars = [];
  const param = (t) => {
    const v = tf.variable(t);
    vars.push(v);
    return v;
  };
  const convW = (k, cin, cout) => param(tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (k * k * cout))));
  const norm = (c) => ({ gamma: param(tf.ones([c])), beta: param(tf.zeros([c])) });
  const dense = (i, o) => ({ w: param(tf.randomNormal([i, o], 0, 0.01)), b: param(tf.zeros([o])) });
  const stem = { w: convW(3, 3, 16), bn: norm(16) };
  let cin = 16;
  const blocks = BLOCKS.map(([k, exp, out, se, hs, s]) => {
    const b = { k, s, hs, residual: s === 1 && cin === out };
    if (exp !== cin) b.expand = { w: convW(1, cin, exp), bn: norm(exp) };
    b.dw = { w: param(tf.randomNormal([k, k, exp, 1], 0, Math.sqrt(2 / (k * k)))), bn: norm(exp) };
    if (se) {
      const sq = divisible(exp / 4);
      b.se = { fc1: dense(exp, sq), fc2: dense(sq, exp) };
    }
    b.project = { w: convW(1, exp, out), bn: norm(out) };
    cin = out;
    return b;
  });
  const last = { w: convW(1, 96, 576), bn: norm(576) };
  const fc1 = dense(576, 1024);
  const fc2 = dense(1024, CLASSES);
  const hswish = (x) => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
  const hsigmoid = (x) => tf.div(tf.relu6(tf.add(x, 3)), 6);
  const bn = (x, p, training) => {
    if (!training) return tf.batchNorm(x, tf.zeros([x.shape[3]]), tf.ones([x.shape[3]]), p.beta, p.gamma, 1e-3);
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.batchNorm(x, mean, variance, p.beta, p.gamma, 1e-3);
  };
  const forward = (x, training) => {
    let h = hswish(bn(tf.conv2d(x, stem.w, 2, 'same'), stem.bn, training));
    for (const b of blocks) {
      const act = b.hs ? hswish : tf.relu;
      let y = h;
      if (b.expand) y = act(bn(tf.conv2d(y, b.expand.w, 1, 'same'), b.expand.bn, training));
      y = act(bn(tf.depthwiseConv2d(y, b.dw.w, b.s, 'same'), b.dw.bn, training));
      if (b.se) {
        const pooled = tf.mean(y, [1, 2]);
        const z = hsigmoid(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(pooled, b.se.fc1.w), b.se.fc1.b)), b.se.fc2.w), b.se.fc2.b));
        y = tf.mul(y, tf.reshape(z, [z.shape[0], 1, 1, z.shape[1]]));
      }
      y = bn(tf.conv2d(y, b.project.w, 1, 'same'), b.project.bn, training);
      h = b.residual ? tf.add(y, h) : y;
    }
    h = hswish(bn(tf.conv2d(h, last.w, 1, 'same'), last.bn, training));
    h = hswish(tf.add(tf.matMul(tf.mean(h, [1, 2]), fc1.w), fc1.b));
    if (training) h = tf.dropout(h, 0.2);
    return tf.add(tf.matMul(h, fc2.w), fc2.b);
  };
  return { vars, forward };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function timeSteps(fn, w, n) {
  for (let i = 0; i < w; i++) await fn();
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return { ms: median(ts), ts };
}

async function train(size, batch) {
  const model = buildModel();
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, size, size, 3]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, CLASSES, 'int32'), CLASSES);
  const step = async () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x, true)), true, model.vars);
    await loss.data();
    loss.dispose();
  };
  const { ms, ts } = await timeSteps(step, warmup, steps);
  tf.dispose([x, y, ...model.vars]);
  optimizer.dispose();
  return { image_size: size, batch_size: batch, ms_per_step: ms, images_per_second: (batch / ms) * 1000, best_ms_per_step: Math.min(...ts), samples_ms: ts };
}

async function infer(size, batch, n) {
  const model = buildModel();
  const x = tf.randomNormal([batch, size, size, 3]);
  const run = async () => {
    const out = tf.tidy(() => model.forward(x, false));
    await out.data();
    out.dispose();
  };
  const { ms, ts } = await timeSteps(run, 3, n);
  tf.dispose([x, ...model.vars]);
  return { image_size: size, batch_size: batch, ms_per_step: ms, images_per_second: (batch / ms) * 1000, best_ms_per_step: Math.min(...ts), samples_ms: ts };
}

const out = { version: tf.version.tfjs, backend: tf.getBackend() };
if (only.has('train224')) out.train224 = await train(224, 32);
if (only.has('train64')) out.train64 = { ...(await train(64, 32)), note: 'batch already on the GPU (no data pipeline)' };
if (only.has('infer1')) out.infer1 = await infer(224, 1, 10);
if (only.has('infer32')) out.infer32 = await infer(224, 32, steps);
console.log(JSON.stringify(out));
process.exit(0);
