/**
 * Whether layers may run their fused kernels: Conv + BatchNorm + activation where no gradient is
 * needed (src/models/mobilenet-v3.ts), and the SE blocks' linear + activation (src/nn/layers.ts
 * linearAct, in training too). On by default; off runs the separate ops (tests and the benchmark
 * compare).
 */
let inferenceFusion = true;

/** Turns the fused inference paths on (default) or off; returns the previous setting. */
export function setInferenceFusion(on: boolean): boolean {
  const prev = inferenceFusion;
  inferenceFusion = on;
  return prev;
}

/** The current setting of {@link setInferenceFusion}. */
export function inferenceFusionEnabled(): boolean {
  return inferenceFusion;
}
