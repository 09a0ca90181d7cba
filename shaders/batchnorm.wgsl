// Batch normalisation over channels-last tensors, viewed as [M, C] (M = N*H*W rows, C channels),
// with an optional activation fused after the affine map.
//
// Compiled twice (kernels/batchnorm.ts puts the line first): `alias V = vec4f;` when C % 4 == 0,
// so one element of every array below is 4 adjacent channels, and `alias V = f32;` otherwise.
// Uniform `cv` is the row length in V elements (C/4 or C). On lavapipe each loaded component
// costs ~15 FMAs and integer division is scalarised, so every pass below gives each thread one
// channel group and a run of rows: the per-channel values are loaded once per thread, the row
// loop steps by cv (no division), and the only division is the thread's own split, once.
//
// Statistics take two stages: stage 1 (thread = split s x channel group g) reduces rows
// [s*chunk, (s+1)*chunk) into part[S, 2, C]; stage 2 (thread = channel group) merges the S
// partials serially (S is at most a few hundred; no workgroup barriers).
// Channel statistics `stats` are [2, C]: mean in row 0, 1/sqrt(var + eps) in row 1.
// KIND is the activation (kernels/activation.ts: 0 ReLU, 1 ReLU6, 2 h-swish, 3 h-sigmoid,
// 4 identity), an override constant so the switch folds away.
// Grids are 2-D (grid1d in src/kernel/define-kernel.ts); linear ids are rebuilt from workgroup ids.

override KIND: u32 = 4u;
override TRAINING: bool = true;

// act(v) (the activation KIND) is appended by kernels/batchnorm.ts; its derivative, at the kinks
// as shaders/activation.wgsl:
fn dact(v: V) -> V {
  switch KIND {
    case 0u: { return select(V(0.0), V(1.0), v > V(0.0)); }
    case 1u: { return select(V(0.0), V(1.0), (v > V(0.0)) & (v < V(6.0))); }
    case 2u: { return select(select((2.0 * v + 3.0) / 6.0, V(1.0), v > V(3.0)), V(0.0), v < V(-3.0)); }
    case 3u: { return select(V(0.0), V(1.0 / 6.0), (v > V(-3.0)) & (v < V(3.0))); }
    default: { return V(1.0); }
  }
}

// ---- forward statistics, stage 1 ----------------------------------------------------------
// part[s, 0, c] = mean of the chunk, part[s, 1, c] = its centred sum of squares. Sums are shifted
// by the chunk's first value, which keeps them small when |mean| >> std (no cancellation).
struct PartParams { m: u32, cv: u32, splits: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> sx: array<V>;
@group(0) @binding(1) var<storage, read_write> spart: array<V>;
@group(0) @binding(2) var<uniform> sp: PartParams;

@compute @workgroup_size(64)
fn stats_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= sp.splits * sp.cv) { return; }
  let s = t / sp.cv;
  let g = t - s * sp.cv;
  let m0 = s * sp.chunk;
  let m1 = min(sp.m, m0 + sp.chunk);
  let shift = sx[m0 * sp.cv + g];
  // Four interleaved rows per step: independent accumulators, and each sums a quarter of the
  // chunk (float32 rounding grows with the length of a running sum).
  var s1 = array<V, 4>(V(0.0), V(0.0), V(0.0), V(0.0));
  var s2 = array<V, 4>(V(0.0), V(0.0), V(0.0), V(0.0));
  let cv = sp.cv;
  var k = m0 * cv + g;
  let end = m1 * cv;
  for (; k + 3u * cv < end; k += 4u * cv) {
    let d0 = sx[k] - shift;
    let d1 = sx[k + cv] - shift;
    let d2 = sx[k + 2u * cv] - shift;
    let d3 = sx[k + 3u * cv] - shift;
    s1[0] += d0;
    s1[1] += d1;
    s1[2] += d2;
    s1[3] += d3;
    s2[0] = fma(d0, d0, s2[0]);
    s2[1] = fma(d1, d1, s2[1]);
    s2[2] = fma(d2, d2, s2[2]);
    s2[3] = fma(d3, d3, s2[3]);
  }
  for (var q = 0u; k < end; k += cv) {
    let d = sx[k] - shift;
    s1[q] += d;
    s2[q] = fma(d, d, s2[q]);
    q++;
  }
  let t1 = (s1[0] + s1[1]) + (s1[2] + s1[3]);
  let t2 = (s2[0] + s2[1]) + (s2[2] + s2[3]);
  let cnt = f32(m1 - m0);
  spart[(s * 2u) * sp.cv + g] = shift + t1 / cnt;
  spart[(s * 2u + 1u) * sp.cv + g] = max(t2 - t1 * t1 / cnt, V(0.0));
}

// ---- forward statistics, stage 2 (training) ---------------------------------------------
// Merges the partials (two passes; a running Chan merge, one pass, drifted measurably in the
// parity test), then updates the running statistics in place:
// running = (1 - momentum) * running + momentum * batch, with the unbiased variance.
struct FinalParams { m: u32, cv: u32, splits: u32, chunk: u32, eps: f32, momentum: f32 }
@group(0) @binding(0) var<storage, read> fpart: array<V>;
@group(0) @binding(1) var<storage, read_write> fstats: array<V>;
@group(0) @binding(2) var<storage, read_write> run_mean: array<V>;
@group(0) @binding(3) var<storage, read_write> run_var: array<V>;
@group(0) @binding(4) var<uniform> fp: FinalParams;

@compute @workgroup_size(64)
fn stats_final(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (g >= fp.cv) { return; }
  // The mean, then the centred sum of squares with Chan's term n_s * (mean_s - mean)^2.
  var sum = V(0.0);
  for (var s = 0u; s < fp.splits; s++) {
    sum += f32(min(fp.chunk, fp.m - s * fp.chunk)) * fpart[(s * 2u) * fp.cv + g];
  }
  let mean = sum / f32(fp.m);
  var m2 = V(0.0);
  for (var s = 0u; s < fp.splits; s++) {
    let dm = fpart[(s * 2u) * fp.cv + g] - mean;
    m2 += fpart[(s * 2u + 1u) * fp.cv + g] + f32(min(fp.chunk, fp.m - s * fp.chunk)) * dm * dm;
  }
  fstats[g] = mean;
  fstats[fp.cv + g] = 1.0 / sqrt(m2 / f32(fp.m) + fp.eps);
  let unbiased = m2 / f32(fp.m - 1u);
  run_mean[g] = (1.0 - fp.momentum) * run_mean[g] + fp.momentum * mean;
  run_var[g] = (1.0 - fp.momentum) * run_var[g] + fp.momentum * unbiased;
}

// ---- evaluation statistics: from the running mean and variance ----------------------------
struct EvalParams { cv: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> rm_in: array<V>;
@group(0) @binding(1) var<storage, read> rv_in: array<V>;
@group(0) @binding(2) var<storage, read_write> estats: array<V>;
@group(0) @binding(3) var<uniform> ep: EvalParams;

@compute @workgroup_size(64)
fn eval_stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (g >= ep.cv) { return; }
  estats[g] = rm_in[g];
  estats[ep.cv + g] = 1.0 / sqrt(rv_in[g] + ep.eps);
}

// ---- normalise: y = act((x - mean) * invstd * gamma + beta) --------------------------------
// Thread = rows [b*rows, (b+1)*rows) x channel group g.
// FROM_RUNNING (evaluation): astats is the running mean and arv the running variance, and invstd
// is computed here as eval_stats does (one dispatch fewer per layer; the same two loads per
// thread). Otherwise astats is [mean; invstd] and arv is not read.
override FROM_RUNNING: bool = false;
struct ApplyParams { m: u32, cv: u32, rows: u32, blocks: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> ax: array<V>;
@group(0) @binding(1) var<storage, read> astats: array<V>;
@group(0) @binding(2) var<storage, read> agamma: array<V>;
@group(0) @binding(3) var<storage, read> abeta: array<V>;
@group(0) @binding(4) var<storage, read_write> ay: array<V>;
@group(0) @binding(5) var<uniform> apar: ApplyParams;
@group(0) @binding(6) var<storage, read> arv: array<V>;

@compute @workgroup_size(64)
fn apply(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= apar.blocks * apar.cv) { return; }
  let b = t / apar.cv;
  let g = t - b * apar.cv;
  let mean = astats[g];
  var invstd: V;
  if (FROM_RUNNING) { invstd = 1.0 / sqrt(arv[g] + apar.eps); } else { invstd = astats[apar.cv + g]; }
  let gm = agamma[g];
  let bt = abeta[g];
  let m0 = b * apar.rows;
  var k = m0 * apar.cv + g;
  let end = min(apar.m, m0 + apar.rows) * apar.cv;
  for (; k < end; k += apar.cv) {
    ay[k] = act(fma((ax[k] - mean) * invstd, gm, bt));
  }
}

// ---- backward, stage 1: per-split sums of dz and dz * xhat ---------------------------------
// dz = dy * act'(z) with z = xhat * gamma + beta recomputed (dz = dy without an activation).
// bpart[s, 0, c] = sum dz, bpart[s, 1, c] = sum dz * xhat.
struct BPartParams { m: u32, cv: u32, splits: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> bx: array<V>;
@group(0) @binding(1) var<storage, read> bdy: array<V>;
@group(0) @binding(2) var<storage, read> bstats: array<V>;
@group(0) @binding(3) var<storage, read> bgamma: array<V>;
@group(0) @binding(4) var<storage, read> bbeta: array<V>;
@group(0) @binding(5) var<storage, read_write> bpart: array<V>;
@group(0) @binding(6) var<uniform> bp: BPartParams;

@compute @workgroup_size(64)
fn backward_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= bp.splits * bp.cv) { return; }
  let s = t / bp.cv;
  let g = t - s * bp.cv;
  let m0 = s * bp.chunk;
  let mean = bstats[g];
  let invstd = bstats[bp.cv + g];
  let gm = bgamma[g];
  let bt = bbeta[g];
  // Four interleaved rows per step, as stats_partial.
  var sdz = array<V, 4>(V(0.0), V(0.0), V(0.0), V(0.0));
  var sdzx = array<V, 4>(V(0.0), V(0.0), V(0.0), V(0.0));
  let cv = bp.cv;
  var k = m0 * cv + g;
  let end = min(bp.m, m0 + bp.chunk) * cv;
  for (; k + 3u * cv < end; k += 4u * cv) {
    for (var q = 0u; q < 4u; q++) {
      let i = k + q * cv;
      let xhat = (bx[i] - mean) * invstd;
      let dz = bdy[i] * dact(fma(xhat, gm, bt));
      sdz[q] += dz;
      sdzx[q] = fma(dz, xhat, sdzx[q]);
    }
  }
  for (var q = 0u; k < end; k += cv) {
    let xhat = (bx[k] - mean) * invstd;
    let dz = bdy[k] * dact(fma(xhat, gm, bt));
    sdz[q] += dz;
    sdzx[q] = fma(dz, xhat, sdzx[q]);
    q++;
  }
  bpart[(s * 2u) * bp.cv + g] = (sdz[0] + sdz[1]) + (sdz[2] + sdz[3]);
  bpart[(s * 2u + 1u) * bp.cv + g] = (sdzx[0] + sdzx[1]) + (sdzx[2] + sdzx[3]);
}

// ---- backward, stage 2: dbeta = sum dz, dgamma = sum dz * xhat ------------------------------
struct BFinalParams { cv: u32, splits: u32 }
@group(0) @binding(0) var<storage, read> qpart: array<V>;
@group(0) @binding(1) var<storage, read_write> dbeta: array<V>;
@group(0) @binding(2) var<storage, read_write> dgamma: array<V>;
@group(0) @binding(3) var<uniform> qp: BFinalParams;

@compute @workgroup_size(64)
fn backward_final(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (g >= qp.cv) { return; }
  var acc_a = V(0.0);
  var acc_b = V(0.0);
  for (var s = 0u; s < qp.splits; s++) {
    acc_a += qpart[(s * 2u) * qp.cv + g];
    acc_b += qpart[(s * 2u + 1u) * qp.cv + g];
  }
  dbeta[g] = acc_a;
  dgamma[g] = acc_b;
}

// ---- backward, input gradient ---------------------------------------------------------------
// TRAINING: dx = gamma * invstd * (dz - (sum dz + xhat * sum dz*xhat) / M)  (batch statistics)
// else:     dx = gamma * invstd * dz                                        (constant statistics)
// Without TRAINING the sums are not read (dsum_b / dsum_g may be any buffer of C elements).
// Thread = rows [b*rows, (b+1)*rows) x channel group g.
struct DxParams { m: u32, cv: u32, rows: u32, blocks: u32 }
@group(0) @binding(0) var<storage, read> dx_x: array<V>;
@group(0) @binding(1) var<storage, read> dx_dy: array<V>;
@group(0) @binding(2) var<storage, read> dx_stats: array<V>;
@group(0) @binding(3) var<storage, read> dx_gamma: array<V>;
@group(0) @binding(4) var<storage, read> dx_beta: array<V>;
@group(0) @binding(5) var<storage, read> dsum_b: array<V>;
@group(0) @binding(6) var<storage, read> dsum_g: array<V>;
@group(0) @binding(7) var<storage, read_write> dx_out: array<V>;
@group(0) @binding(8) var<uniform> dxp: DxParams;

@compute @workgroup_size(64)
fn backward_dx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= dxp.blocks * dxp.cv) { return; }
  let b = t / dxp.cv;
  let g = t - b * dxp.cv;
  let mean = dx_stats[g];
  let invstd = dx_stats[dxp.cv + g];
  let gm = dx_gamma[g];
  let bt = dx_beta[g];
  let k_out = gm * invstd;
  var cb = V(0.0);
  var cg = V(0.0);
  if (TRAINING) {
    cb = dsum_b[g] / f32(dxp.m);
    cg = dsum_g[g] / f32(dxp.m);
  }
  let m0 = b * dxp.rows;
  var k = m0 * dxp.cv + g;
  let end = min(dxp.m, m0 + dxp.rows) * dxp.cv;
  for (; k < end; k += dxp.cv) {
    let xhat = (dx_x[k] - mean) * invstd;
    var dz = dx_dy[k] * dact(fma(xhat, gm, bt));
    if (TRAINING) {
      dz -= fma(xhat, cg, cb);
    }
    dx_out[k] = k_out * dz;
  }
}

// ---- small tensors: one workgroup per GC channel groups does a whole direction ---------------
// Where M is small (the late, low-resolution layers) the two-stage passes above are mostly launch
// cost: three dispatches forward and three backward, each a few microseconds of work. Here one
// dispatch does the forward (mean, centred variance, running update, normalise) and one the
// backward (both sums, dbeta, dgamma, dx). A workgroup's 64 threads are 64/GC row slices x GC
// channel groups (GC = 1, 2, 4 or 8, an override: workgroups = ceil(cv / GC)); each thread walks
// rows r, r + 64/GC, ... and the slices are summed through workgroup memory. The tensor is read
// three times forward and twice backward, which costs little at these sizes (cache-resident).
override GC: u32 = 8u;
var<workgroup> red_a: array<V, 64>;
var<workgroup> red_b: array<V, 64>;

struct SmallFwdParams { m: u32, cv: u32, eps: f32, momentum: f32 }
@group(0) @binding(0) var<storage, read> nf_x: array<V>;
@group(0) @binding(1) var<storage, read> nf_gamma: array<V>;
@group(0) @binding(2) var<storage, read> nf_beta: array<V>;
@group(0) @binding(3) var<storage, read_write> nf_y: array<V>;
@group(0) @binding(4) var<storage, read_write> nf_stats: array<V>;
@group(0) @binding(5) var<storage, read_write> nf_run_mean: array<V>;
@group(0) @binding(6) var<storage, read_write> nf_run_var: array<V>;
@group(0) @binding(7) var<uniform> nfp: SmallFwdParams;

// Stores channel group g's batch statistics (mean; invstd) and moves the running ones toward them
// (m2: the sum of squared deviations over mf rows; the unbiased variance, as PyTorch).
fn nf_store_stats(g: u32, cv: u32, mean: V, invstd: V, m2: V, mf: f32) {
  nf_stats[g] = mean;
  nf_stats[cv + g] = invstd;
  nf_run_mean[g] = (1.0 - nfp.momentum) * nf_run_mean[g] + nfp.momentum * mean;
  nf_run_var[g] = (1.0 - nfp.momentum) * nf_run_var[g] + nfp.momentum * (m2 / (mf - 1.0));
}

// Sum of red_a over the row slices of channel group `gl` (every thread computes it: no 2nd barrier).
fn slices_a(gl: u32) -> V {
  var t = V(0.0);
  for (var q = 0u; q < 64u / GC; q++) { t += red_a[q * GC + gl]; }
  return t;
}
fn slices_b(gl: u32) -> V {
  var t = V(0.0);
  for (var q = 0u; q < 64u / GC; q++) { t += red_b[q * GC + gl]; }
  return t;
}

// A thread's place: channel group g (gl within the workgroup); gg = g clamped, so lanes past the
// last group read the last one and store nothing (they still reach the barriers); it walks
// elements k0, k0 + step, ... below end.
struct SmallLane { gl: u32, g: u32, gg: u32, k0: u32, step: u32, end: u32 }
fn small_lane(wid: vec3u, nwg: vec3u, lid: u32, m: u32, cv: u32) -> SmallLane {
  let gl = lid % GC;
  let g = (wid.y * nwg.x + wid.x) * GC + gl;
  let gg = min(g, cv - 1u);
  return SmallLane(gl, g, gg, (lid / GC) * cv + gg, (64u / GC) * cv, m * cv);
}

@compute @workgroup_size(64)
fn small_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let cv = nfp.cv;
  let ln = small_lane(wid, nwg, lid, nfp.m, cv);
  let g = ln.g;
  let mf = f32(nfp.m);
  var s = V(0.0);
  for (var k = ln.k0; k < ln.end; k += ln.step) { s += nf_x[k]; }
  red_a[lid] = s;
  workgroupBarrier();
  let mean = slices_a(ln.gl) / mf;
  var s2 = V(0.0);
  for (var k = ln.k0; k < ln.end; k += ln.step) {
    let d = nf_x[k] - mean;
    s2 = fma(d, d, s2);
  }
  red_b[lid] = s2;
  workgroupBarrier();
  let m2 = slices_b(ln.gl);
  let invstd = 1.0 / sqrt(m2 / mf + nfp.eps);
  if (g >= cv) { return; }
  if (lid < GC) { nf_store_stats(g, cv, mean, invstd, m2, mf); }
  let gm = nf_gamma[g];
  let bt = nf_beta[g];
  for (var k = ln.k0; k < ln.end; k += ln.step) {
    nf_y[k] = act(fma((nf_x[k] - mean) * invstd, gm, bt));
  }
}

struct SmallBwdParams { m: u32, cv: u32 }
@group(0) @binding(0) var<storage, read> nb_x: array<V>;
@group(0) @binding(1) var<storage, read> nb_dy: array<V>;
@group(0) @binding(2) var<storage, read> nb_stats: array<V>;
@group(0) @binding(3) var<storage, read> nb_gamma: array<V>;
@group(0) @binding(4) var<storage, read> nb_beta: array<V>;
@group(0) @binding(5) var<storage, read_write> nb_dx: array<V>;
@group(0) @binding(6) var<storage, read_write> nb_dbeta: array<V>;
@group(0) @binding(7) var<storage, read_write> nb_dgamma: array<V>;
@group(0) @binding(8) var<uniform> nbp: SmallBwdParams;

// Batch statistics (training): dx = gamma * invstd * (dz - (sum dz + xhat * sum dz*xhat) / M).
@compute @workgroup_size(64)
fn small_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let cv = nbp.cv;
  let ln = small_lane(wid, nwg, lid, nbp.m, cv);
  let g = ln.g;
  let mean = nb_stats[ln.gg];
  let invstd = nb_stats[cv + ln.gg];
  let gm = nb_gamma[ln.gg];
  let bt = nb_beta[ln.gg];
  var sdz = V(0.0);
  var sdzx = V(0.0);
  for (var k = ln.k0; k < ln.end; k += ln.step) {
    let xhat = (nb_x[k] - mean) * invstd;
    let dz = nb_dy[k] * dact(fma(xhat, gm, bt));
    sdz += dz;
    sdzx = fma(dz, xhat, sdzx);
  }
  red_a[lid] = sdz;
  red_b[lid] = sdzx;
  workgroupBarrier();
  let tdz = slices_a(ln.gl);
  let tdzx = slices_b(ln.gl);
  if (g >= cv) { return; }
  if (lid < GC) {
    nb_dbeta[g] = tdz;
    nb_dgamma[g] = tdzx;
  }
  let cb = tdz / f32(nbp.m);
  let cg = tdzx / f32(nbp.m);
  let k_out = gm * invstd;
  for (var k = ln.k0; k < ln.end; k += ln.step) {
    let xhat = (nb_x[k] - mean) * invstd;
    let dz = nb_dy[k] * dact(fma(xhat, gm, bt));
    nb_dx[k] = k_out * (dz - fma(xhat, cg, cb));
  }
}

// ---- tiny tensors: one thread per channel group walks every row, no barrier -------------------
// For small M on CPU adapters: there a workgroup barrier turns the shader into coroutines, which
// cost the one-dispatch kernels above most of their time. Eight threads per workgroup, so that even
// a few channel groups spread over the CPU's threads. The forward reads x twice (both sums in one
// walk, then the normalisation). Sums run in blocks of SB rows added to the total, relative to the
// mean of the channel's first rows, so float32 keeps the statistics of offset data (mean 100,
// std 0.05) over 100k rows as the two-stage passes do.
const SB = 64u;

// The walks of the serial kernels over the elements k0, k0 + cv, ... below `end` (one channel
// group's rows, or a slice of them: shaders/batchnorm-serial-sg.wgsl), in blocks of SB rows.
// Sums of d and d^2 with d = x - x0 (x0: sw_shift), in one walk: the mean is
// x0 + S1 / M and the centred sum of squares S2 - S1^2 / M. Shifting by a value of the channel
// keeps S2 and S1^2 / M of the order of the variance, so offset data keeps its precision.
struct SwSums { s1: V, s2: V }
fn sw_sums(k0: u32, end: u32, cv: u32, x0: V) -> SwSums {
  var s1 = V(0.0);
  var s2 = V(0.0);
  for (var kb = k0; kb < end; kb += SB * cv) {
    var b1 = V(0.0);
    var b2 = V(0.0);
    for (var k = kb; k < min(kb + SB * cv, end); k += cv) {
      let d = nf_x[k] - x0;
      b1 += d;
      b2 = fma(d, d, b2);
    }
    s1 += b1;
    s2 += b2;
  }
  return SwSums(s1, s2);
}

// The shift for sw_sums: the mean of the channel's first SB rows (g: its first element), close
// enough to the mean that S2 and S1^2 / M do not cancel. (With the first row alone, which can sit
// a few standard deviations off, two training runs differing only in float rounding drifted apart
// a hundred times faster: test/step-replay.test.ts, the split-K case.)
fn sw_shift(g: u32, m: u32, cv: u32) -> V {
  let rows = min(m, SB);
  var s = V(0.0);
  for (var k = g; k < g + rows * cv; k += cv) { s += nf_x[k]; }
  return s / f32(rows);
}

// The centred sum of squares from the shifted sums over all mf rows.
fn sw_m2_of(t: SwSums, mf: f32) -> V {
  return max(t.s2 - t.s1 * t.s1 / mf, V(0.0));
}

fn sw_apply(k0: u32, end: u32, cv: u32, g: u32, mean: V, invstd: V) {
  let gm = nf_gamma[g];
  let bt = nf_beta[g];
  for (var k = k0; k < end; k += cv) { nf_y[k] = act(fma((nf_x[k] - mean) * invstd, gm, bt)); }
}

// Sums of dz and dz * xhat (dz = dy * act'(z)).
struct SwDz { dz: V, dzx: V }
fn sw_dsums(k0: u32, end: u32, cv: u32, g: u32, mean: V, invstd: V) -> SwDz {
  let gm = nb_gamma[g];
  let bt = nb_beta[g];
  var sdz = V(0.0);
  var sdzx = V(0.0);
  for (var kb = k0; kb < end; kb += SB * cv) {
    var bz = V(0.0);
    var bzx = V(0.0);
    for (var k = kb; k < min(kb + SB * cv, end); k += cv) {
      let xhat = (nb_x[k] - mean) * invstd;
      let dz = nb_dy[k] * dact(fma(xhat, gm, bt));
      bz += dz;
      bzx = fma(dz, xhat, bzx);
    }
    sdz += bz;
    sdzx += bzx;
  }
  return SwDz(sdz, sdzx);
}

// dx from the two sums over all M rows.
fn sw_dx(k0: u32, end: u32, cv: u32, g: u32, mean: V, invstd: V, t: SwDz) {
  let gm = nb_gamma[g];
  let bt = nb_beta[g];
  let cb = t.dz / f32(nbp.m);
  let cg = t.dzx / f32(nbp.m);
  let k_out = gm * invstd;
  for (var k = k0; k < end; k += cv) {
    let xhat = (nb_x[k] - mean) * invstd;
    let dz = nb_dy[k] * dact(fma(xhat, gm, bt));
    nb_dx[k] = k_out * (dz - fma(xhat, cg, cb));
  }
}

@compute @workgroup_size(8)
fn serial_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let cv = nfp.cv;
  let g = (wid.y * nwg.x + wid.x) * 8u + lid;
  if (g >= cv) { return; }
  let mf = f32(nfp.m);
  let end = nfp.m * cv;
  let x0 = sw_shift(g, nfp.m, cv);
  let t = sw_sums(g, end, cv, x0);
  let mean = x0 + t.s1 / mf;
  let m2 = sw_m2_of(t, mf);
  let invstd = 1.0 / sqrt(m2 / mf + nfp.eps);
  nf_store_stats(g, cv, mean, invstd, m2, mf);
  sw_apply(g, end, cv, g, mean, invstd);
}

@compute @workgroup_size(8)
fn serial_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let cv = nbp.cv;
  let g = (wid.y * nwg.x + wid.x) * 8u + lid;
  if (g >= cv) { return; }
  let end = nbp.m * cv;
  let mean = nb_stats[g];
  let invstd = nb_stats[cv + g];
  let t = sw_dsums(g, end, cv, g, mean, invstd);
  nb_dbeta[g] = t.dz;
  nb_dgamma[g] = t.dzx;
  sw_dx(g, end, cv, g, mean, invstd, t);
}
