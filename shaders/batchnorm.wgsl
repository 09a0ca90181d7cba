// Batch normalisation over channels-last tensors, viewed as [M, C] (M = N*H*W rows, C channels;
// element (m, c) at m*C + c), with an optional activation fused after the affine map.
// Per-channel statistics take two stages so long channels are summed in parallel:
//   stage 1 (one thread per (split s, channel c)) reduces rows [s*chunk, (s+1)*chunk) into part[S, 2, C];
//   stage 2 (one workgroup per channel) combines the S partials with a tree in workgroup memory.
// Channel statistics `stats` are [2, C]: mean in row 0, 1/sqrt(var + eps) in row 1.
// Activation kinds follow kernels/activation.ts (0 ReLU, 1 ReLU6, 2 h-swish, 3 h-sigmoid, 4 identity).
// Grids are 2-D (gridFor in src/kernel/define-kernel.ts); linear ids are rebuilt from workgroup ids.

// Same definitions as shaders/activation.wgsl (WGSL has no include): derivative at kinks is the
// right-hand value, as PyTorch.
fn act(v: f32, kind: u32) -> f32 {
  switch kind {
    case 0u: { return max(v, 0.0); }
    case 1u: { return clamp(v, 0.0, 6.0); }
    case 2u: { return v * clamp(v + 3.0, 0.0, 6.0) / 6.0; }
    case 3u: { return clamp(v + 3.0, 0.0, 6.0) / 6.0; }
    default: { return v; }
  }
}

fn dact(v: f32, kind: u32) -> f32 {
  switch kind {
    case 0u: { return select(0.0, 1.0, v > 0.0); }
    case 1u: { return select(0.0, 1.0, v > 0.0 && v < 6.0); }
    case 2u: {
      if (v < -3.0) { return 0.0; }
      if (v > 3.0) { return 1.0; }
      return (2.0 * v + 3.0) / 6.0;
    }
    case 3u: { return select(0.0, 1.0 / 6.0, v > -3.0 && v < 3.0); }
    default: { return 1.0; }
  }
}

const WG_FINAL: u32 = 128u;
var<workgroup> tree_a: array<f32, 128>;
var<workgroup> tree_b: array<f32, 128>;

// Sums tree_a (and tree_b) over the workgroup into element 0. Called in uniform control flow.
fn tree_reduce(lid: u32) {
  for (var width = WG_FINAL / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      tree_a[lid] += tree_a[lid + width];
      tree_b[lid] += tree_b[lid + width];
    }
    workgroupBarrier();
  }
}

// ---- forward statistics, stage 1 ----------------------------------------------------------
// part[s, 0, c] = mean of the chunk, part[s, 1, c] = its centred sum of squares. Sums are shifted
// by the chunk's first value, which keeps them small when |mean| >> std (no cancellation).
struct PartParams { m: u32, c: u32, splits: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> sx: array<f32>;
@group(0) @binding(1) var<storage, read_write> spart: array<f32>;
@group(0) @binding(2) var<uniform> sp: PartParams;

@compute @workgroup_size(256)
fn stats_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (t >= sp.splits * sp.c) { return; }
  let ch = t % sp.c;
  let s = t / sp.c;
  let m0 = s * sp.chunk;
  let m1 = min(sp.m, m0 + sp.chunk);
  let shift = sx[m0 * sp.c + ch];
  var s1 = 0.0;
  var s2 = 0.0;
  var k = m0 * sp.c + ch;
  for (var row = m0; row < m1; row++) {
    let d = sx[k] - shift;
    s1 += d;
    s2 += d * d;
    k += sp.c;
  }
  let cnt = f32(m1 - m0);
  spart[(s * 2u) * sp.c + ch] = shift + s1 / cnt;
  spart[(s * 2u + 1u) * sp.c + ch] = max(s2 - s1 * s1 / cnt, 0.0);
}

// ---- forward statistics, stage 2 (training) ---------------------------------------------
// Two passes over the partials (mean first, then the centred sum of squares with Chan's term
// n_s * (mean_s - mean)^2), then the running statistics are updated in place:
// running = (1 - momentum) * running + momentum * batch, with the unbiased variance.
struct FinalParams { m: u32, c: u32, splits: u32, chunk: u32, eps: f32, momentum: f32 }
@group(0) @binding(0) var<storage, read> fpart: array<f32>;
@group(0) @binding(1) var<storage, read_write> fstats: array<f32>;
@group(0) @binding(2) var<storage, read_write> run_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> run_var: array<f32>;
@group(0) @binding(4) var<uniform> fp: FinalParams;

@compute @workgroup_size(128)
fn stats_final(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  // workgroup_id is uniform, so this test leaves the barriers below in uniform control flow.
  let ch = wid.y * nwg.x + wid.x;
  let live = ch < fp.c;
  var acc = 0.0;
  if (live) {
    for (var s = lid; s < fp.splits; s += WG_FINAL) {
      let cnt = f32(min(fp.chunk, fp.m - s * fp.chunk));
      acc += cnt * fpart[(s * 2u) * fp.c + ch];
    }
  }
  tree_a[lid] = acc;
  tree_b[lid] = 0.0;
  workgroupBarrier();
  tree_reduce(lid);
  let mean = tree_a[0] / f32(fp.m);
  workgroupBarrier();
  var acc2 = 0.0;
  if (live) {
    for (var s = lid; s < fp.splits; s += WG_FINAL) {
      let cnt = f32(min(fp.chunk, fp.m - s * fp.chunk));
      let dm = fpart[(s * 2u) * fp.c + ch] - mean;
      acc2 += fpart[(s * 2u + 1u) * fp.c + ch] + cnt * dm * dm;
    }
  }
  tree_a[lid] = acc2;
  workgroupBarrier();
  tree_reduce(lid);
  if (live && lid == 0u) {
    let m2 = tree_a[0];
    let biased = m2 / f32(fp.m);
    fstats[ch] = mean;
    fstats[fp.c + ch] = 1.0 / sqrt(biased + fp.eps);
    let unbiased = m2 / f32(fp.m - 1u);
    run_mean[ch] = (1.0 - fp.momentum) * run_mean[ch] + fp.momentum * mean;
    run_var[ch] = (1.0 - fp.momentum) * run_var[ch] + fp.momentum * unbiased;
  }
}

// ---- evaluation statistics: from the running mean and variance ----------------------------
struct EvalParams { c: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> rm_in: array<f32>;
@group(0) @binding(1) var<storage, read> rv_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> estats: array<f32>;
@group(0) @binding(3) var<uniform> ep: EvalParams;

@compute @workgroup_size(64)
fn eval_stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ch = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (ch >= ep.c) { return; }
  estats[ch] = rm_in[ch];
  estats[ep.c + ch] = 1.0 / sqrt(rv_in[ch] + ep.eps);
}

// ---- normalise: y = act((x - mean) * invstd * gamma + beta) --------------------------------
struct ApplyParams { n: u32, c: u32, kind: u32 }
@group(0) @binding(0) var<storage, read> ax: array<f32>;
@group(0) @binding(1) var<storage, read> astats: array<f32>;
@group(0) @binding(2) var<storage, read> agamma: array<f32>;
@group(0) @binding(3) var<storage, read> abeta: array<f32>;
@group(0) @binding(4) var<storage, read_write> ay: array<f32>;
@group(0) @binding(5) var<uniform> apar: ApplyParams;

@compute @workgroup_size(256)
fn apply(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= apar.n) { return; }
  let ch = i % apar.c;
  let xhat = (ax[i] - astats[ch]) * astats[apar.c + ch];
  ay[i] = act(xhat * agamma[ch] + abeta[ch], apar.kind);
}

// ---- backward, stage 1: per-split sums of dz and dz * xhat ---------------------------------
// dz = dy * act'(z) with z = xhat * gamma + beta recomputed (dz = dy without an activation).
// bpart[s, 0, c] = sum dz, bpart[s, 1, c] = sum dz * xhat.
struct BPartParams { m: u32, c: u32, splits: u32, chunk: u32, kind: u32 }
@group(0) @binding(0) var<storage, read> bx: array<f32>;
@group(0) @binding(1) var<storage, read> bdy: array<f32>;
@group(0) @binding(2) var<storage, read> bstats: array<f32>;
@group(0) @binding(3) var<storage, read> bgamma: array<f32>;
@group(0) @binding(4) var<storage, read> bbeta: array<f32>;
@group(0) @binding(5) var<storage, read_write> bpart: array<f32>;
@group(0) @binding(6) var<uniform> bp: BPartParams;

@compute @workgroup_size(256)
fn backward_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (t >= bp.splits * bp.c) { return; }
  let ch = t % bp.c;
  let s = t / bp.c;
  let m0 = s * bp.chunk;
  let m1 = min(bp.m, m0 + bp.chunk);
  let mean = bstats[ch];
  let invstd = bstats[bp.c + ch];
  let g = bgamma[ch];
  let bt = bbeta[ch];
  var sdz = 0.0;
  var sdzx = 0.0;
  var k = m0 * bp.c + ch;
  for (var row = m0; row < m1; row++) {
    let xhat = (bx[k] - mean) * invstd;
    let dz = bdy[k] * dact(xhat * g + bt, bp.kind);
    sdz += dz;
    sdzx += dz * xhat;
    k += bp.c;
  }
  bpart[(s * 2u) * bp.c + ch] = sdz;
  bpart[(s * 2u + 1u) * bp.c + ch] = sdzx;
}

// ---- backward, stage 2: dbeta = sum dz, dgamma = sum dz * xhat ------------------------------
struct BFinalParams { c: u32, splits: u32 }
@group(0) @binding(0) var<storage, read> qpart: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(2) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(3) var<uniform> qp: BFinalParams;

@compute @workgroup_size(128)
fn backward_final(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.y * nwg.x + wid.x;
  let live = ch < qp.c;
  var acc_a = 0.0;
  var acc_b = 0.0;
  if (live) {
    for (var s = lid; s < qp.splits; s += WG_FINAL) {
      acc_a += qpart[(s * 2u) * qp.c + ch];
      acc_b += qpart[(s * 2u + 1u) * qp.c + ch];
    }
  }
  tree_a[lid] = acc_a;
  tree_b[lid] = acc_b;
  workgroupBarrier();
  tree_reduce(lid);
  if (live && lid == 0u) {
    dbeta[ch] = tree_a[0];
    dgamma[ch] = tree_b[0];
  }
}

// ---- backward, input gradient ---------------------------------------------------------------
// training: dx = gamma * invstd * (dz - (sum dz + xhat * sum dz*xhat) / M)  (batch statistics)
// eval:     dx = gamma * invstd * dz                                        (constant statistics)
// In eval mode the sums are not read (dsum_b / dsum_g may be any buffer of C elements).
struct DxParams { n: u32, c: u32, m: u32, kind: u32, training: u32 }
@group(0) @binding(0) var<storage, read> dx_x: array<f32>;
@group(0) @binding(1) var<storage, read> dx_dy: array<f32>;
@group(0) @binding(2) var<storage, read> dx_stats: array<f32>;
@group(0) @binding(3) var<storage, read> dx_gamma: array<f32>;
@group(0) @binding(4) var<storage, read> dx_beta: array<f32>;
@group(0) @binding(5) var<storage, read> dsum_b: array<f32>;
@group(0) @binding(6) var<storage, read> dsum_g: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx_out: array<f32>;
@group(0) @binding(8) var<uniform> dxp: DxParams;

@compute @workgroup_size(256)
fn backward_dx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= dxp.n) { return; }
  let ch = i % dxp.c;
  let invstd = dx_stats[dxp.c + ch];
  let xhat = (dx_x[i] - dx_stats[ch]) * invstd;
  let g = dx_gamma[ch];
  var dz = dx_dy[i] * dact(xhat * g + dx_beta[ch], dxp.kind);
  if (dxp.training != 0u) {
    dz -= (dsum_b[ch] + xhat * dsum_g[ch]) / f32(dxp.m);
  }
  dx_out[i] = g * invstd * dz;
}
