// Deterministic MobileNetV3-Small weights and input for the PyTorch parity fixtures
// (test/fixtures/parity.json, written by scripts/make-parity-fixtures.py). This file and the
// Python script implement the same rule; keep them identical.
//
// VALUE RULE. Walk torchvision's mobilenet_v3_small(num_classes) state_dict in its order,
// t = 0, 1, 2, ... over ALL keys (weights, biases, running_mean, running_var and
// num_batches_tracked alike). For element j of tensor t (row-major index in PyTorch layout: convs
// OIHW, depthwise [C,1,k,k], linears [out,in]) compute in float64
//     s = sin(0.7*j + 1.3*t + 0.1)          (evaluated left to right)
// and then
//     conv / linear weight           s * sqrt(3 / fan_in), fan_in = (in_channels/groups)*kh*kw
//                                    (= dim1*dim2*dim3 of the OIHW weight) or in_features (= dim1)
//     conv / linear bias             0.1 * s
//     BatchNorm weight               1 + 0.1 * s
//     BatchNorm bias                 0.1 * s
//     BatchNorm running_mean         0.1 * s
//     BatchNorm running_var          1 + 0.5 * |s|
//     BatchNorm num_batches_tracked  0 (a scalar: shape [], one element here)
// and round to float32 (Math.fround: round to nearest even).
//
// INPUT. parityInput(n, size): n images, 3 channels, size x size. In NCHW order the value at flat
// index i = ((b*3 + c)*size + y)*size + x is fround(0.5 * sin(0.05*i + 0.3)); the returned array is
// NHWC: out[((b*size + y)*size + x)*3 + c] = that value. The fixture uses n = 2, size = 64, labels
// [3, 7].

export interface ParityTensor {
  shape: number[];
  data: Float32Array;
}

/** Labels of the parity batch. */
export const PARITY_LABELS = [3, 7] as const;
/** Batch size and image size of the parity fixture. */
export const PARITY_BATCH = 2;
export const PARITY_SIZE = 64;

type Kind = 'weight' | 'bias' | 'bn_weight' | 'bn_bias' | 'running_mean' | 'running_var' | 'num_batches_tracked';

// torchvision's MobileNetV3-Small bnecks: kernel, expanded channels, out channels, SE, stride.
const BNECKS: ReadonlyArray<readonly [number, number, number, boolean, number]> = [
  [3, 16, 16, true, 2],
  [3, 72, 24, false, 2],
  [3, 88, 24, false, 1],
  [5, 96, 40, true, 2],
  [5, 240, 40, true, 1],
  [5, 240, 40, true, 1],
  [5, 120, 48, true, 1],
  [5, 144, 48, true, 1],
  [5, 288, 96, true, 2],
  [5, 576, 96, true, 1],
  [5, 576, 96, true, 1],
];

function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** torchvision's state_dict keys and shapes, in state_dict order, num_batches_tracked included. */
export function mobilenetV3SmallStateDictLayout(numClasses = 10): Array<{ key: string; shape: number[] }> {
  const out: Array<{ key: string; shape: number[] }> = [];
  const conv = (prefix: string, shape: number[], bias = false) => {
    out.push({ key: `${prefix}.weight`, shape });
    if (bias) out.push({ key: `${prefix}.bias`, shape: [shape[0]!] });
  };
  const bn = (prefix: string, c: number) => {
    out.push({ key: `${prefix}.weight`, shape: [c] });
    out.push({ key: `${prefix}.bias`, shape: [c] });
    out.push({ key: `${prefix}.running_mean`, shape: [c] });
    out.push({ key: `${prefix}.running_var`, shape: [c] });
    out.push({ key: `${prefix}.num_batches_tracked`, shape: [] });
  };
  conv('features.0.0', [16, 3, 3, 3]);
  bn('features.0.1', 16);
  let cin = 16;
  BNECKS.forEach(([k, exp, cout, se], b) => {
    const p = `features.${b + 1}.block`;
    let li = 0;
    if (exp !== cin) {
      conv(`${p}.${li}.0`, [exp, cin, 1, 1]);
      bn(`${p}.${li}.1`, exp);
      li++;
    }
    conv(`${p}.${li}.0`, [exp, 1, k, k]);
    bn(`${p}.${li}.1`, exp);
    li++;
    if (se) {
      const sq = makeDivisible(exp / 4);
      conv(`${p}.${li}.fc1`, [sq, exp, 1, 1], true);
      conv(`${p}.${li}.fc2`, [exp, sq, 1, 1], true);
      li++;
    }
    conv(`${p}.${li}.0`, [cout, exp, 1, 1]);
    bn(`${p}.${li}.1`, cout);
    cin = cout;
  });
  conv('features.12.0', [576, cin, 1, 1]);
  bn('features.12.1', 576);
  out.push({ key: 'classifier.0.weight', shape: [1024, 576] }, { key: 'classifier.0.bias', shape: [1024] });
  out.push({ key: 'classifier.3.weight', shape: [numClasses, 1024] }, { key: 'classifier.3.bias', shape: [numClasses] });
  return out;
}

function kindOf(key: string, bnPrefixes: Set<string>): Kind {
  const dot = key.lastIndexOf('.');
  const prefix = key.slice(0, dot);
  const leaf = key.slice(dot + 1);
  if (bnPrefixes.has(prefix)) {
    if (leaf === 'weight') return 'bn_weight';
    if (leaf === 'bias') return 'bn_bias';
    if (leaf === 'running_mean' || leaf === 'running_var' || leaf === 'num_batches_tracked') return leaf;
  } else if (leaf === 'weight' || leaf === 'bias') {
    return leaf;
  }
  throw new Error(`parity weights: unexpected key ${key}`);
}

/** The value of element j of the t-th state_dict tensor, before rounding to float32. */
export function parityValue(kind: Kind, t: number, j: number, fanIn: number): number {
  if (kind === 'num_batches_tracked') return 0;
  const s = Math.sin(0.7 * j + 1.3 * t + 0.1);
  switch (kind) {
    case 'weight': return s * Math.sqrt(3 / fanIn);
    case 'bias': case 'bn_bias': case 'running_mean': return 0.1 * s;
    case 'bn_weight': return 1 + 0.1 * s;
    case 'running_var': return 1 + 0.5 * Math.abs(s);
  }
}

/**
 * Every tensor of torchvision's mobilenet_v3_small(num_classes) state_dict, under torchvision's
 * names and in PyTorch layouts, filled by the value rule above. num_batches_tracked entries have
 * shape [] and a single 0.
 */
export function parityStateDict(numClasses = 10): Map<string, ParityTensor> {
  const layout = mobilenetV3SmallStateDictLayout(numClasses);
  const bnPrefixes = new Set(
    layout.filter((e) => e.key.endsWith('.running_mean')).map((e) => e.key.slice(0, -'.running_mean'.length)),
  );
  const dict = new Map<string, ParityTensor>();
  layout.forEach(({ key, shape }, t) => {
    const kind = kindOf(key, bnPrefixes);
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = kind === 'weight' ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const data = new Float32Array(n);
    for (let j = 0; j < n; j++) data[j] = parityValue(kind, t, j, fanIn);
    dict.set(key, { shape, data });
  });
  return dict;
}

/** The parity input batch, n images of 3 x size x size, in NHWC layout (see INPUT above). */
export function parityInput(n = PARITY_BATCH, size = PARITY_SIZE): Float32Array {
  const c = 3;
  const out = new Float32Array(n * size * size * c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const i = ((b * c + ch) * size + y) * size + x;
          out[((b * size + y) * size + x) * c + ch] = 0.5 * Math.sin(0.05 * i + 0.3);
        }
      }
    }
  }
  return out;
}
