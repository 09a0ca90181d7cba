/**
 * Reverse-mode autograd. Each op attaches a node to its output: the inputs and a backward rule
 * (written beside the op's forward in src/ops/). `backward()` walks the graph from the loss in
 * reverse topological order, sums gradients where a tensor is used twice, and accumulates into
 * the `.grad` of leaves that require it. All of it is GPU work recorded into the open encoder.
 */
import { MobilegradError } from '../device/errors.js';
import { keep } from '../tensor/scope.js';
import { setBackwardImpl, Tensor, type GradNode } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { ones } from '../tensor/create.js';

let gradEnabled = true;

/** Runs `fn` without recording the autograd graph (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Records `out` as produced by `op` from `inputs`, with `backward` giving the inputs' gradients.
 * Does nothing when no input requires a gradient or recording is off.
 */
export function attach(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.gradFn = { op, inputs, backward };
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: MobileNet graphs are deep enough to make recursion a risk.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order.reverse();
}

// Tensors whose node an earlier backward() consumed: walking into one again would silently treat
// it as a leaf and give its inputs nothing.
const consumed = new WeakSet<Tensor>();
const USED_TWICE = 'the graph that produced it was already used by an earlier backward() (graphs are used once: run the forward again to backpropagate again)';

async function backward(root: Tensor, seed?: Tensor): Promise<void> {
  if (consumed.has(root)) throw new MobilegradError(`backward(): tensor [${root.shape.join(', ')}]: ${USED_TWICE}`);
  if (!root.requiresGrad) {
    throw new MobilegradError(`backward(): tensor [${root.shape.join(', ')}] does not require grad (it was computed under noGrad, or from tensors without requiresGrad)`);
  }
  if (!seed && root.size !== 1) throw new MobilegradError(`backward(): the loss must be a scalar, got shape [${root.shape.join(', ')}]; pass a gradient for other shapes`);
  // Backward rules are not themselves differentiated (no create_graph): record no nodes.
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    walk(root, seed);
  } finally {
    gradEnabled = prev;
  }
}

function walk(root: Tensor, seed: Tensor | undefined): void {
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, seed ?? ones(root.shape));
  for (const t of topoOrder(root)) {
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const node = t.gradFn;
    if (!node && consumed.has(t)) throw new MobilegradError(`backward(): reached tensor [${t.shape.join(', ')}] (an intermediate result): ${USED_TWICE}`);
    if (!node) {
      // A leaf: accumulate into .grad, which outlives any tidy() scope.
      if (t.grad) {
        const sum = add(t.grad, g);
        t.grad.release();
        if (g !== seed) g.release();
        t.grad = keep(sum);
      } else {
        t.grad = keep(g === seed ? g.view(g.shape) : g);
      }
      continue;
    }
    const inGrads = node.backward(g);
    // A rule may pass its incoming gradient through (or one tensor to two inputs): give each
    // input its own handle on the storage so releasing one does not free the other.
    const used = new Set<Tensor>([g]);
    for (let k = 0; k < inGrads.length; k++) {
      const gi = inGrads[k];
      if (!gi) continue;
      if (used.has(gi)) inGrads[k] = gi.view(gi.shape);
      used.add(gi);
    }
    if (g !== seed) g.release();
    node.inputs.forEach((inp, k) => {
      const gi = inGrads[k];
      if (!gi || !inp.requiresGrad) {
        gi?.release();
        return;
      }
      const prev = grads.get(inp);
      if (prev) {
        grads.set(inp, add(prev, gi));
        prev.release();
        gi.release();
      } else grads.set(inp, gi);
    });
    // The graph is used once (as PyTorch without retain_graph).
    t.gradFn = null;
    consumed.add(t);
  }
}

setBackwardImpl(backward);

export { backward };
