/**
 * Whether layers may run their fused forward-only kernels where no gradient is needed (Conv +
 * BatchNorm + activation in src/models/mobilenet-v3.ts, the SE blocks' linear + activation in
 * src/nn/layers.ts). On by default; off runs the separate ops (tests and the benchmark compare).
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
