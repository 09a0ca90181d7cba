/**
 * The demo data for the examples: the Fashion-MNIST subset in data/fashion-mnist (2,000 training
 * and 1,000 test images, 10 classes), decoded once and cached, as batches of GPU tensors.
 * MOBILEGRAD_SMOKE=1 (set by CI) shrinks every example to a few steps on a few images.
 */
import * as mg from 'mobilegrad';

/** True when CI runs the examples as smoke tests. */
export const SMOKE = process.env.MOBILEGRAD_SMOKE === '1';

/** Images (8-bit RGB, NHWC) and labels held on the CPU. */
export interface Split {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  size: number;
  classes: string[];
}

function subset(d: Split, keep: (label: number, i: number) => boolean, relabel = (l: number) => l): Split {
  const per = d.size * d.size * 3;
  const idx = [...Array(d.count).keys()].filter((i) => keep(d.labels[i]!, i));
  const images = new Uint8Array(idx.length * per);
  idx.forEach((k, j) => images.set(d.images.subarray(k * per, (k + 1) * per), j * per));
  return { images, labels: Int32Array.from(idx, (k) => relabel(d.labels[k]!)), count: idx.length, size: d.size, classes: d.classes };
}

/**
 * Loads the train and test splits at `size` pixels. `classes` keeps some classes only (relabelled
 * 0, 1, ...); in smoke mode each split keeps `smokeImages` images.
 */
export async function loadDemo(size: number, options: { classes?: number[]; smokeImages?: number } = {}): Promise<{ train: Split; test: Split }> {
  const root = process.env.MOBILEGRAD_DATA ?? 'data/fashion-mnist';
  const load = async (part: string): Promise<Split> => {
    const d = await mg.loadImageFolder(`${root}/${part}`, { imageSize: size, allowSmall: true });
    let s: Split = { images: d.images, labels: d.labels, count: d.count, size, classes: d.classes };
    const keep = options.classes;
    if (keep) s = { ...subset(s, (l) => keep.includes(l), (l) => keep.indexOf(l)), classes: keep.map((c) => d.classes[c]!) };
    if (SMOKE) {
      // Evenly spaced images (the folders are in class order): every class stays represented.
      const step = Math.max(1, Math.floor(s.count / (options.smokeImages ?? 64)));
      s = subset(s, (_, i) => i % step === 0 && i / step < (options.smokeImages ?? 64));
    }
    return s;
  };
  return { train: await load('train'), test: await load('test') };
}

/** Shuffled batches (a new order per `epoch`) as [x, y]: x float NHWC [n, size, size, 3], y i32 [n]. */
export function* batches(d: Split, batchSize: number, epoch: number, shuffle = true): Generator<[mg.Tensor, mg.Tensor]> {
  const order = [...Array(d.count).keys()];
  const rng = new mg.Rng(1000 + epoch);
  if (shuffle) for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const per = d.size * d.size * 3;
  for (let s = 0; s + batchSize <= order.length || (!shuffle && s < order.length); s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const bytes = new Uint8Array(idx.length * per);
    idx.forEach((k, j) => bytes.set(d.images.subarray(k * per, (k + 1) * per), j * per));
    const x = mg.tidy(() => mg.prepareBatch(mg.uploadImages(bytes, idx.length, d.size), mg.identityParams(idx.length, d.size), idx.length, d.size, d.size));
    yield [x, mg.tensor(Int32Array.from(idx, (k) => d.labels[k]!), [idx.length])];
  }
}

/** Top-1 accuracy of `model` on `d`, in evaluation mode (each module's mode is restored after). */
export async function accuracy(model: mg.nn.Module, d: Split, batchSize = 64): Promise<number> {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  let correct = 0;
  for (const [x, y] of batches(d, batchSize, 0, false)) {
    const logits = mg.noGrad(() => model.call(x));
    const k = logits.shape[1]!;
    const [p, t] = [(await logits.toArray()) as Float32Array, (await y.toArray()) as Int32Array];
    for (let i = 0; i < t.length; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
      if (best === t[i]) correct++;
    }
    [x, y, logits].forEach((v) => v.release());
  }
  for (const [m, on] of modes) m.training = on;
  return correct / d.count;
}
