// Inverted dropout whose mask is a counter-based hash of (seed, element index): the backward
// regenerates the forward's mask from the seed instead of storing it.
// Layouts: x, y, dy, dx flat [n] f32 (any shape).
// Element i is kept when hash(seed, i) >> 8 >= threshold, threshold = round(p * 2^24), so the
// keep probability is 1 - p to 2^-24; kept values are multiplied by scale = 1 / (1 - p).
// The seed is a per-step value: it comes from a one-word storage buffer the host writes each step,
// not from the uniforms, so a recorded training step replays with a fresh mask.

struct DropoutParams { n: u32, threshold: u32, scale: f32 }

// "lowbias32" integer finalizer (Chris Wellons): full avalanche in a few multiplies.
fn mix32(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

// Keep factor of element i: scale or 0. The seed is mixed first so that nearby seeds give
// unrelated streams (mirrored in the tests' CPU reference).
fn keep_factor(i: u32, seed: u32, threshold: u32, scale: f32) -> f32 {
  let h = mix32(i ^ mix32(seed ^ 0x9e3779b9u));
  return select(0.0, scale, (h >> 8u) >= threshold);
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> fseed: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: DropoutParams;

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= p.n) { return; }
  y[i] = x[i] * keep_factor(i, fseed[0], p.threshold, p.scale);
}

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> bseed: array<u32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> q: DropoutParams;

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= q.n) { return; }
  dx[i] = dy[i] * keep_factor(i, bseed[0], q.threshold, q.scale);
}
