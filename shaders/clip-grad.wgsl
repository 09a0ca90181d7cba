// Gradient clipping by global L2 norm, with no readback: per-parameter partial sums of squares,
// one workgroup that turns them into the norm and the clip coefficient, then an in-place scale.
// Fixed summation order everywhere (strided per thread, then a tree): bit-identical between runs.

struct SumsqParams { n: u32, base: u32, groups: u32 }

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> sp: SumsqParams;

var<workgroup> tree: array<f32, 256>;

// Workgroup w sums g[i]^2 for i = w*256 + lid + k*groups*256 and writes partials[base + w].
@compute @workgroup_size(256)
fn sumsq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  let stride = sp.groups * 256u;
  for (var i = wid.x * 256u + lid; i < sp.n; i += stride) {
    let v = g[i];
    acc += v * v;
  }
  tree[lid] = acc;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (lid < half) { tree[lid] += tree[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[sp.base + wid.x] = tree[0]; }
}

struct FinishParams { count: u32, max_norm: f32 }

@group(0) @binding(0) var<storage, read> parts: array<f32>;
@group(0) @binding(1) var<storage, read_write> norm: array<f32>;
@group(0) @binding(2) var<storage, read_write> coef: array<f32>;
@group(0) @binding(3) var<uniform> fp: FinishParams;

// One workgroup: total = sum of the partials; norm = sqrt(total); coef = min(1, max_norm / (norm + 1e-6))
// (PyTorch's clip_grad_norm_: a non-finite norm gives a non-finite coefficient, as there).
@compute @workgroup_size(256)
fn finish(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < fp.count; i += 256u) { acc += parts[i]; }
  tree[lid] = acc;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (lid < half) { tree[lid] += tree[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let total = sqrt(tree[0]);
    norm[0] = total;
    coef[0] = min(1.0, fp.max_norm / (total + 1e-6));
  }
}

struct ScaleParams { n: u32 }

@group(0) @binding(0) var<storage, read_write> sg: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<uniform> sc: ScaleParams;

@compute @workgroup_size(256)
fn apply(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= sc.n) { return; }
  sg[i] = sg[i] * scale[0];
}
