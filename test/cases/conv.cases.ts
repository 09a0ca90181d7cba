import * as mg from '../../src/index.js';
import { setDepthwiseScalarSlide } from '../../src/ops/depthwise-conv2d.js';
import { cases } from '../support/cases.js';
import { expectClose, expectThrows, expectTrue, prod, randomData } from '../support/check.js';

/** A convolution problem: x [n,h,w,cin]; dense w [kh,kw,cin,cout], depthwise w [k,k,c] (cout = cin). */
export interface Conv {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  depthwise: boolean;
}

export const outSize = (c: Conv) => [Math.floor((c.h + 2 * c.pad - c.kh) / c.stride) + 1, Math.floor((c.w + 2 * c.pad - c.kw) / c.stride) + 1] as const;
export const wShape = (c: Conv) => (c.depthwise ? [c.kh, c.kw, c.cin] : [c.kh, c.kw, c.cin, c.cout]);

/**
 * float64 reference: calls `tap(xi, wi, yi)` for every (input, weight, output) index triple that
 * contributes, so forward, dx and dw all come from the same loop nest.
 */
function forEachTap(c: Conv, tap: (xi: number, wi: number, yi: number) => void): void {
  const [ho, wo] = outSize(c);
  for (let n = 0; n < c.n; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let ky = 0; ky < c.kh; ky++) {
          const iy = oy * c.stride - c.pad + ky;
          if (iy < 0 || iy >= c.h) continue;
          for (let kx = 0; kx < c.kw; kx++) {
            const ix = ox * c.stride - c.pad + kx;
            if (ix < 0 || ix >= c.w) continue;
            const xb = ((n * c.h + iy) * c.w + ix) * c.cin;
            const yb = ((n * ho + oy) * wo + ox) * c.cout;
            if (c.depthwise) {
              for (let ch = 0; ch < c.cin; ch++) tap(xb + ch, (ky * c.kw + kx) * c.cin + ch, yb + ch);
            } else {
              for (let ci = 0; ci < c.cin; ci++) {
                const wb = ((ky * c.kw + kx) * c.cin + ci) * c.cout;
                for (let co = 0; co < c.cout; co++) tap(xb + ci, wb + co, yb + co);
              }
            }
          }
        }
}

export function reference(c: Conv, x: Float64Array, w: Float64Array, dy: Float64Array) {
  const [ho, wo] = outSize(c);
  const y = new Float64Array(c.n * ho * wo * c.cout);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  forEachTap(c, (xi, wi, yi) => {
    y[yi] += x[xi]! * w[wi]!;
    dx[xi] += dy[yi]! * w[wi]!;
    dw[wi] += dy[yi]! * x[xi]!;
  });
  return { y, dx, dw };
}

function run(c: Conv, x: mg.Tensor, w: mg.Tensor): mg.Tensor {
  const o = { stride: c.stride, padding: c.pad };
  return c.depthwise ? mg.depthwiseConv2d(x, w, o) : mg.conv2d(x, w, o);
}

const describe = (c: Conv) =>
  `${c.depthwise ? 'depthwise' : 'conv2d'} x [${c.n},${c.h},${c.w},${c.cin}] w [${wShape(c)}] stride ${c.stride} pad ${c.pad}`;

/** Forward values, then dx and dw for a random output gradient, against the float64 reference. */
async function checkAgainstReference(c: Conv, seed: number): Promise<void> {
  const [ho, wo] = outSize(c);
  const x = randomData(c.n * c.h * c.w * c.cin, seed);
  const w = randomData(prod(wShape(c)), seed + 1);
  const dy = randomData(c.n * ho * wo * c.cout, seed + 2);
  const want = reference(c, x, w, dy);
  const tx = mg.tensor(x, [c.n, c.h, c.w, c.cin], { requiresGrad: true });
  const tw = mg.tensor(w, wShape(c), { requiresGrad: true });
  const y = run(c, tx, tw);
  expectTrue(y.shape.join() === [c.n, ho, wo, c.cout].join(), `${describe(c)}: output shape [${y.shape}]`);
  expectClose(await y.toArray(), want.y, `${describe(c)} forward`, 1e-4, 1e-5);
  const tdy = mg.tensor(dy, y.shape);
  await y.backward(tdy);
  expectClose(await tx.grad!.toArray(), want.dx, `${describe(c)} dx`, 1e-4, 1e-4);
  expectClose(await tw.grad!.toArray(), want.dw, `${describe(c)} dw`, 1e-4, 1e-4);
  [tx.grad!, tw.grad!, tx, tw, y, tdy].forEach((t) => t.release());
}

export const dense = (n: number, h: number, w: number, cin: number, cout: number, kh: number, kw: number, stride: number, pad: number): Conv => ({ n, h, w, cin, cout, kh, kw, stride, pad, depthwise: false });
export const depthwise = (n: number, h: number, w: number, c: number, k: number, stride: number, pad: number): Conv => ({ n, h, w, cin: c, cout: c, kh: k, kw: k, stride, pad, depthwise: true });

const denseShapes: Conv[] = [
  dense(1, 7, 9, 3, 16, 3, 3, 2, 1), // the MobileNetV3 stem on an odd image, batch 1
  dense(2, 5, 5, 5, 7, 1, 1, 1, 0), // pointwise, channels not multiples of 4
  dense(3, 11, 13, 13, 5, 5, 5, 2, 2),
  dense(2, 9, 7, 7, 13, 3, 3, 1, 1),
  dense(1, 6, 8, 4, 8, 2, 3, 3, 0), // non-square window, stride 3, rows/columns the window never reaches
  dense(1, 5, 5, 3, 5, 3, 3, 2, 3), // padding wider than the window: all-padding outputs
  dense(1, 3, 3, 5, 3, 3, 3, 1, 0), // a single output row: the weight gradient needs no second pass
  dense(1, 4, 19, 5, 13, 3, 3, 1, 1), // 8-column forward blocks with a partial last block, 13 output channels
  dense(2, 33, 35, 3, 16, 3, 3, 2, 1), // many splits in the weight gradient, partial workgroups
  dense(1, 6, 6, 3, 4, 3, 3, 1, 1), // 4 output channels: vec4 weight and dy reads, one channel group
  dense(2, 9, 10, 5, 12, 3, 3, 2, 1), // 12 output channels: vec4 reads, the second 8-channel block half past the end
  // Few-input-channel kernels (forward_rows, backward_w_rows: W*Cin % 4 == 0, Cout % 4 == 0):
  dense(1, 9, 12, 3, 16, 3, 3, 2, 1), // the stem, batch 1, odd height
  dense(3, 30, 28, 3, 16, 3, 3, 2, 1), // the stem, many weight-gradient splits
  dense(2, 13, 20, 3, 12, 3, 3, 2, 1), // 12 output channels: the second channel pair half past the end
  dense(1, 11, 16, 3, 4, 3, 3, 2, 0), // no padding (row segments start on a vec4), odd output width, 4 channels
  dense(2, 9, 8, 4, 8, 3, 3, 1, 1), // stride 1, 4 input channels
  dense(1, 9, 8, 1, 8, 3, 3, 2, 1), // one input channel
  dense(1, 13, 12, 3, 8, 7, 7, 2, 3), // 7x7 window: too many weights and accumulators for them, the general kernels
];

const depthwiseShapes: Conv[] = [
  depthwise(1, 7, 9, 3, 3, 1, 1),
  depthwise(2, 11, 13, 5, 5, 2, 2),
  depthwise(3, 5, 5, 13, 3, 2, 1),
  depthwise(2, 9, 7, 7, 5, 1, 2),
  depthwise(1, 8, 8, 16, 3, 2, 1), // MobileNet-like: even size, stride 2
  depthwise(2, 6, 7, 3, 3, 1, 0), // no padding
  depthwise(1, 4, 5, 2, 3, 2, 3), // padding wider than the window
  depthwise(1, 5, 5, 3, 1, 2, 0), // 1x1 window, stride 2: skipped input positions get zero gradient
  depthwise(2, 30, 31, 16, 3, 2, 1), // many splits in the weight gradient
  depthwise(2, 14, 14, 40, 5, 1, 2), // MobileNet's 5x5 stage shape, smaller batch
  depthwise(2, 9, 10, 8, 7, 2, 3), // 7x7 window: weights read from the buffer, not the 5x5 register cache (vec4)
  depthwise(1, 6, 7, 5, 7, 1, 3), // the same, scalar
  depthwise(3, 7, 7, 12, 3, 1, 1), // 7x7 map: one partial block per row and column (vec4)
  // Sliding-window kernels (threads walk chunks of row blocks down the image; small batches split the column):
  depthwise(3, 11, 9, 200, 5, 1, 2), // 5x5 stride 1: whole columns, partial strip at the right edge
  depthwise(2, 17, 8, 340, 3, 1, 1), // 3x3 stride 1: whole columns, scalar
  depthwise(1, 9, 7, 12, 5, 2, 2), // 5x5 stride 2, batch 1, odd sizes (vec4)
  depthwise(1, 29, 27, 700, 5, 2, 2), // 5x5 stride 2 with 15 output rows (sliding forward), whole columns
  depthwise(1, 15, 10, 5, 3, 2, 1), // 3x3 stride 2 dx, odd rows, scalar
  depthwise(1, 29, 29, 136, 3, 2, 1), // 3x3 stride 2, 15 output rows (sliding forward), vec4
  depthwise(1, 29, 29, 134, 3, 2, 1), // the same, scalar
  depthwise(1, 13, 11, 6, 5, 1, 1), // 5x5 stride 1 with padding 1 (dx as the rotated forward with pad 3), scalar: one row per chunk
  // Sliding weight gradient (strips of output columns, all taps; images or row chunks per thread):
  depthwise(1, 13, 11, 8, 3, 2, 1), // 3x3 stride 2, batch 1, odd sizes: one step per chunk, dy cache primed from the row above (vec4)
  depthwise(5, 6, 5, 400, 3, 1, 1), // 3x3 stride 1: two images per thread, the last group one image; odd width, partial strip
  depthwise(5, 7, 7, 20, 5, 1, 2), // 5x5 stride 1 at 7x7: row chunks, dy rows past the end read zero (vec4)
  depthwise(3, 9, 9, 6, 5, 1, 2), // the same, scalar
  depthwise(3, 10, 9, 7, 5, 2, 2), // 5x5 stride 2 onto 5 rows: the per-ky kernel, odd width, scalar
  depthwise(2, 29, 28, 6, 5, 2, 2), // 5x5 stride 2 onto 15 rows: chunks of 3 steps, scalar
  depthwise(1, 9, 8, 4, 2, 2, 0), // even window, no padding
  depthwise(2, 19, 19, 64, 3, 1, 1), // 3x3 stride 1: forward and dx in chunks of 10 rows, the last 9; weight gradient in chunks
  depthwise(1, 14, 15, 200, 5, 1, 2), // 5x5 stride 1: forward and dx in 2 chunks of 7 rows; weight gradient in chunks primed with 4 dy rows
  // Column chunks with a short last one (src/ops/depthwise-conv2d.ts SLIDE_THREADS = 256), and outputs of at most 4x4 (one block each):
  depthwise(1, 17, 12, 64, 5, 1, 2), // 5x5 stride 1: forward and dx in 6 chunks of 3 rows, the last 2 (vec4)
  depthwise(1, 29, 27, 20, 5, 2, 2), // 5x5 stride 2 onto 15 rows: 4 chunks of 4 rows, the last 3 (vec4)
  depthwise(1, 29, 27, 5, 3, 2, 1), // 3x3 stride 2 onto 15 rows: the same chunks, scalar
  depthwise(3, 4, 4, 24, 5, 1, 2), // 4x4 output, 5x5: one 4x4 block per thread (vec4)
  depthwise(2, 2, 2, 12, 5, 1, 2), // 2x2 output: one 2x2 block; every tap but the centre 2x2 in the padding
  depthwise(2, 4, 3, 7, 5, 2, 2), // 2x2 output from 4x3 at stride 2, scalar
  depthwise(3, 3, 3, 8, 5, 2, 2), // forward_small: odd 3x3 map onto 2x2 at stride 2 (vec4)
  depthwise(2, 1, 3, 5, 3, 1, 1), // forward_small: a 1x3 map, forward and the rotated dx (scalar)
  depthwise(1, 3, 3, 4, 2, 1, 0), // forward_small: even window, no padding, 3x3 onto 2x2
];

export default cases('conv', [
  ...denseShapes.map((c, i): [string, () => Promise<void>] => [`${describe(c)}: forward, dx, dw against float64`, () => checkAgainstReference(c, 100 + 10 * i)]),
  ...depthwiseShapes.map((c, i): [string, () => Promise<void>] => [`${describe(c)}: forward, dx, dw against float64`, () => checkAgainstReference(c, 300 + 10 * i)]),
  [
    'conv2d gradcheck (stride 2 with padding; stride 1 with a 2x2 window)',
    async () => {
      for (const [c, seed] of [[dense(1, 5, 4, 3, 2, 3, 3, 2, 1), 7], [dense(2, 4, 5, 2, 3, 2, 2, 1, 0), 8]] as [Conv, number][]) {
        const x = mg.tensor(randomData(c.n * c.h * c.w * c.cin, seed), [c.n, c.h, c.w, c.cin]);
        const w = mg.tensor(randomData(prod(wShape(c)), seed + 1), wShape(c));
        await mg.gradcheck((a, b) => run(c, a, b), [x, w]);
        x.release();
        w.release();
      }
    },
  ],
  [
    '5x5 stride-1 sliding kernels and 5x5 stride-2 forward blocks with vec4 lanes and with one channel per lane, both forced (CPU adapters take the scalar ones from 7x7 maps / 7 output rows, GPUs vec4)',
    async () => {
      const shapes = [depthwise(2, 14, 14, 40, 5, 1, 2), depthwise(5, 7, 7, 20, 5, 1, 2), depthwise(1, 17, 12, 64, 5, 1, 2), depthwise(2, 9, 11, 12, 5, 1, 1),
        // Stride 2 onto 7, 10 and 15 rows (scalar: the block kernel's 7 x 4 blocks, partial row and column
        // blocks; vec4: 4 x 4 blocks below 14 rows, the sliding kernel from 14).
        depthwise(2, 14, 13, 12, 5, 2, 2), depthwise(1, 19, 17, 8, 5, 2, 2), depthwise(1, 29, 27, 20, 5, 2, 2)];
      for (const scalar of [false, true]) {
        const prev = setDepthwiseScalarSlide(scalar);
        try {
          for (const [i, c] of shapes.entries()) await checkAgainstReference(c, 700 + 10 * i + (scalar ? 5 : 0));
        } finally {
          setDepthwiseScalarSlide(prev);
        }
      }
    },
  ],
  [
    'depthwiseConv2d gradcheck (3x3 stride 2, 5x5 stride 1)',
    async () => {
      for (const [c, seed] of [[depthwise(1, 5, 6, 3, 3, 2, 1), 9], [depthwise(2, 5, 5, 5, 5, 1, 2), 10]] as [Conv, number][]) {
        const x = mg.tensor(randomData(c.n * c.h * c.w * c.cin, seed), [c.n, c.h, c.w, c.cin]);
        const w = mg.tensor(randomData(prod(wShape(c)), seed + 1), wShape(c));
        await mg.gradcheck((a, b) => run(c, a, b), [x, w]);
        x.release();
        w.release();
      }
    },
  ],
  [
    'gradient of the weights only (input without requiresGrad, as the stem image)',
    async () => {
      const c = dense(2, 7, 7, 3, 6, 3, 3, 2, 1);
      const [ho, wo] = outSize(c);
      const x = randomData(c.n * c.h * c.w * c.cin, 51);
      const w = randomData(prod(wShape(c)), 52);
      const dy = randomData(c.n * ho * wo * c.cout, 53);
      const tx = mg.tensor(x, [c.n, c.h, c.w, c.cin]);
      const tw = mg.tensor(w, wShape(c), { requiresGrad: true });
      const y = run(c, tx, tw);
      const tdy = mg.tensor(dy, y.shape);
      await y.backward(tdy);
      expectTrue(tx.grad === null, 'input got a gradient');
      expectClose(await tw.grad!.toArray(), reference(c, x, w, dy).dw, 'dw', 1e-4, 1e-4);
      [tw.grad!, tx, tw, y, tdy].forEach((t) => t.release());
    },
  ],
  [
    'shape errors name the op and the shapes',
    async () => {
      const x = mg.tensor(randomData(2 * 5 * 5 * 3, 61), [2, 5, 5, 3]);
      const w4 = mg.tensor(randomData(3 * 3 * 4 * 8, 62), [3, 3, 4, 8]);
      const w7 = mg.tensor(randomData(7 * 7 * 3 * 2, 63), [7, 7, 3, 2]);
      const dw4 = mg.tensor(randomData(3 * 3 * 4, 64), [3, 3, 4]);
      const dw7 = mg.tensor(randomData(7 * 7 * 3, 65), [7, 7, 3]);
      await expectThrows(() => mg.conv2d(x, w4), 'conv2d channel mismatch', 'conv2d: weight input channels 4');
      await expectThrows(() => mg.conv2d(x, w7, { padding: 0 }), 'conv2d window too big', 'larger than the padded input 5x5');
      await expectThrows(() => mg.conv2d(x.view([50, 3]), w4), 'conv2d rank', 'x must be NHWC');
      await expectThrows(() => mg.conv2d(x, w7, { stride: 0, padding: 1 }), 'conv2d stride 0', 'stride');
      await expectThrows(() => mg.depthwiseConv2d(x, dw4, { padding: 1 }), 'depthwise channel mismatch', 'depthwiseConv2d: weight channels 4');
      await expectThrows(() => mg.depthwiseConv2d(x, dw7, { padding: 0 }), 'depthwise window too big', 'larger than the padded input');
      await expectThrows(() => mg.depthwiseConv2d(x, w4), 'depthwise weight rank', 'w must be [K, K, C]');
      // A 7x7 window fits once padded by 1: no error.
      const ok = mg.depthwiseConv2d(x, dw7, { padding: 1 });
      expectTrue(ok.shape.join() === '2,1,1,3', `depthwise 7x7 pad 1 shape [${ok.shape}]`);
      [x, w4, w7, dw4, dw7, ok].forEach((t) => t.release());
    },
  ],
]);
