// Softmax and softmax cross-entropy over the last axis.
// Layouts: logits / probs [rows, k] row-major f32; labels [rows] i32 class ids; row_loss [rows];
// loss [1]; g [1] (the incoming gradient of the mean loss).
// One workgroup of 64 invocations per row (rows may exceed 65,535: the row id is rebuilt from a
// 2-D grid); each invocation strides over the row, then a tree reduction in workgroup memory.
// Every row is max-subtracted before exp (log-sum-exp), so large logits do not overflow.
// Labels outside [0, k) give a NaN row loss, so a bad label cannot pass silently.

const WG: u32 = 64u;

struct RowParams { rows: u32, k: u32, smoothing: f32, scale: f32 }

var<workgroup> red: array<f32, 64>;

// Workgroup-wide max of v (every invocation gets the result).
fn reduce_max(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// Workgroup-wide sum of v (every invocation gets the result).
fn reduce_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// A quiet NaN. WGSL rejects a constant NaN, so the bits are offset by a runtime zero.
fn nan_f32(runtime_zero: u32) -> f32 {
  return bitcast<f32>(0x7fc00000u + runtime_zero);
}

// ---- cross-entropy forward: per-row loss ----
// loss_r = -(1-eps) * logp[y] - eps/k * sum_j logp[j], logp[j] = (x[j] - max) - log(sum exp(x - max)).
@group(0) @binding(0) var<storage, read> ce_logits: array<f32>;
@group(0) @binding(1) var<storage, read> ce_labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(3) var<uniform> cp: RowParams;

@compute @workgroup_size(64)
fn ce_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= cp.rows) { return; }
  let base = row * cp.k;
  var m = -3.0e38;
  for (var j = lid; j < cp.k; j += WG) { m = max(m, ce_logits[base + j]); }
  m = reduce_max(m, lid);
  // Shifted sums: sum exp(x - m) and sum (x - m). Working relative to m (not subtracting a
  // rounded log-sum-exp from x) keeps full precision when logits are large.
  var se = 0.0;
  var sd = 0.0;
  for (var j = lid; j < cp.k; j += WG) {
    let v = ce_logits[base + j] - m;
    se += exp(v);
    sd += v;
  }
  se = reduce_sum(se, lid);
  sd = reduce_sum(sd, lid);
  if (lid == 0u) {
    let log_se = log(se);
    let y = ce_labels[row];
    let kf = f32(cp.k);
    if (y < 0 || u32(y) >= cp.k) {
      row_loss[row] = nan_f32(row * 0u);
    } else {
      let logp_y = (ce_logits[base + u32(y)] - m) - log_se;
      let sum_logp = sd - kf * log_se;
      row_loss[row] = -(1.0 - cp.smoothing) * logp_y - cp.smoothing / kf * sum_logp;
    }
  }
}

// ---- cross-entropy backward ----
// dlogits[r, j] = (softmax[r, j] - target[r, j]) * g * scale, target = (1-eps)*onehot + eps/k,
// scale = 1/rows. The row max and exp-sum are recomputed here rather than stored by the forward.
@group(0) @binding(0) var<storage, read> cb_logits: array<f32>;
@group(0) @binding(1) var<storage, read> cb_labels: array<i32>;
@group(0) @binding(2) var<storage, read> cb_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<uniform> bp: RowParams;

@compute @workgroup_size(64)
fn ce_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= bp.rows) { return; }
  let base = row * bp.k;
  var m = -3.0e38;
  for (var j = lid; j < bp.k; j += WG) { m = max(m, cb_logits[base + j]); }
  m = reduce_max(m, lid);
  var se = 0.0;
  for (var j = lid; j < bp.k; j += WG) { se += exp(cb_logits[base + j] - m); }
  se = reduce_sum(se, lid);
  let inv = 1.0 / se;
  let y = cb_labels[row];
  let coef = cb_g[0] * bp.scale;
  let off = bp.smoothing / f32(bp.k);
  for (var j = lid; j < bp.k; j += WG) {
    let t = select(off, off + 1.0 - bp.smoothing, i32(j) == y);
    dlogits[base + j] = (exp(cb_logits[base + j] - m) * inv - t) * coef;
  }
}

// ---- mean of the row losses: one workgroup strides over all rows ----
struct MeanParams { n: u32, inv_n: f32 }
@group(0) @binding(0) var<storage, read> mean_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(2) var<uniform> mp: MeanParams;

@compute @workgroup_size(64)
fn row_mean(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < mp.n; i += WG) { acc += mean_in[i]; }
  acc = reduce_sum(acc, lid);
  if (lid == 0u) { mean_out[0] = acc * mp.inv_n; }
}

// ---- softmax forward ----
@group(0) @binding(0) var<storage, read> sm_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> sm_y: array<f32>;
@group(0) @binding(2) var<uniform> sp: RowParams;

@compute @workgroup_size(64)
fn softmax_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= sp.rows) { return; }
  let base = row * sp.k;
  var m = -3.0e38;
  for (var j = lid; j < sp.k; j += WG) { m = max(m, sm_x[base + j]); }
  m = reduce_max(m, lid);
  var se = 0.0;
  for (var j = lid; j < sp.k; j += WG) { se += exp(sm_x[base + j] - m); }
  se = reduce_sum(se, lid);
  let inv = 1.0 / se;
  for (var j = lid; j < sp.k; j += WG) { sm_y[base + j] = exp(sm_x[base + j] - m) * inv; }
}

// ---- softmax backward: dx = y * (dy - sum_j dy[j] * y[j]) ----
@group(0) @binding(0) var<storage, read> sb_y: array<f32>;
@group(0) @binding(1) var<storage, read> sb_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> sb_dx: array<f32>;
@group(0) @binding(3) var<uniform> sbp: RowParams;

@compute @workgroup_size(64)
fn softmax_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= sbp.rows) { return; }
  let base = row * sbp.k;
  var d = 0.0;
  for (var j = lid; j < sbp.k; j += WG) { d += sb_dy[base + j] * sb_y[base + j]; }
  d = reduce_sum(d, lid);
  for (var j = lid; j < sbp.k; j += WG) { sb_dx[base + j] = sb_y[base + j] * (sb_dy[base + j] - d); }
}
