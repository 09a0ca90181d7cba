// Softmax cross-entropy with per-class weights (and label smoothing), as PyTorch's
// CrossEntropyLoss(weight=w, label_smoothing=eps) with mean reduction:
//   loss = [ sum_r (1-eps) w[y_r] (-logp[r, y_r]) + eps/k sum_r sum_j w[j] (-logp[r, j]) ] / sum_r w[y_r]
// Layouts: logits [rows, k] row-major f32; labels [rows] i32; weights [k] f32; row_loss, row_w [rows];
// loss [1]; wsum [1] (the denominator, kept for the backward); g [1].
// One workgroup of 64 invocations per row (row id rebuilt from a 2-D grid for rows > 65,535),
// max-subtracted log-sum-exp. A label outside [0, k) makes its row loss and weight NaN.

const WG: u32 = 64u;

struct RowParams { rows: u32, k: u32, smoothing: f32 }

var<workgroup> red: array<f32, 64>;

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

// ---- forward: weighted per-row loss and the row's weight ----
// -logp[j] = log_se - (x[j] - m); sum_j w[j] (-logp[j]) = W log_se - sum_j w[j] (x[j] - m), W = sum_j w[j].
@group(0) @binding(0) var<storage, read> wf_logits: array<f32>;
@group(0) @binding(1) var<storage, read> wf_labels: array<i32>;
@group(0) @binding(2) var<storage, read> wf_weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> wf_row_loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> wf_row_w: array<f32>;
@group(0) @binding(5) var<uniform> fp: RowParams;

@compute @workgroup_size(64)
fn wce_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= fp.rows) { return; }
  let base = row * fp.k;
  var m = -3.0e38;
  for (var j = lid; j < fp.k; j += WG) { m = max(m, wf_logits[base + j]); }
  m = reduce_max(m, lid);
  var se = 0.0;
  var swd = 0.0;
  var sw = 0.0;
  for (var j = lid; j < fp.k; j += WG) {
    let v = wf_logits[base + j] - m;
    let w = wf_weights[j];
    se += exp(v);
    swd += w * v;
    sw += w;
  }
  se = reduce_sum(se, lid);
  swd = reduce_sum(swd, lid);
  sw = reduce_sum(sw, lid);
  if (lid == 0u) {
    let log_se = log(se);
    let y = wf_labels[row];
    if (y < 0 || u32(y) >= fp.k) {
      wf_row_loss[row] = nan_f32(row * 0u);
      wf_row_w[row] = nan_f32(row * 0u);
    } else {
      let wy = wf_weights[u32(y)];
      let nll = log_se - (wf_logits[base + u32(y)] - m);
      let smoothing_term = sw * log_se - swd;
      wf_row_loss[row] = (1.0 - fp.smoothing) * wy * nll + fp.smoothing / f32(fp.k) * smoothing_term;
      wf_row_w[row] = wy;
    }
  }
}

// ---- the weighted mean: sum of row losses over sum of row weights; one workgroup ----
struct MeanParams { n: u32 }
@group(0) @binding(0) var<storage, read> wm_row_loss: array<f32>;
@group(0) @binding(1) var<storage, read> wm_row_w: array<f32>;
@group(0) @binding(2) var<storage, read_write> wm_loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> wm_wsum: array<f32>;
@group(0) @binding(4) var<uniform> mp: MeanParams;

@compute @workgroup_size(64)
fn wce_mean(@builtin(local_invocation_index) lid: u32) {
  var l = 0.0;
  var w = 0.0;
  for (var i = lid; i < mp.n; i += WG) {
    l += wm_row_loss[i];
    w += wm_row_w[i];
  }
  l = reduce_sum(l, lid);
  w = reduce_sum(w, lid);
  if (lid == 0u) {
    wm_loss[0] = l / w;
    wm_wsum[0] = w;
  }
}

// ---- backward ----
// dlogits[r, j] = g / wsum * [ (1-eps) w[y] (p[j] - [j == y]) + eps/k (W p[j] - w[j]) ], p = softmax(x[r]).
@group(0) @binding(0) var<storage, read> wb_logits: array<f32>;
@group(0) @binding(1) var<storage, read> wb_labels: array<i32>;
@group(0) @binding(2) var<storage, read> wb_weights: array<f32>;
@group(0) @binding(3) var<storage, read> wb_wsum: array<f32>;
@group(0) @binding(4) var<storage, read> wb_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> wb_dlogits: array<f32>;
@group(0) @binding(6) var<uniform> bp: RowParams;

@compute @workgroup_size(64)
fn wce_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= bp.rows) { return; }
  let base = row * bp.k;
  var m = -3.0e38;
  for (var j = lid; j < bp.k; j += WG) { m = max(m, wb_logits[base + j]); }
  m = reduce_max(m, lid);
  var se = 0.0;
  var sw = 0.0;
  for (var j = lid; j < bp.k; j += WG) {
    se += exp(wb_logits[base + j] - m);
    sw += wb_weights[j];
  }
  se = reduce_sum(se, lid);
  sw = reduce_sum(sw, lid);
  let inv = 1.0 / se;
  let y = wb_labels[row];
  var wy = nan_f32(row * 0u);
  if (y >= 0 && u32(y) < bp.k) { wy = wb_weights[u32(y)]; }
  let coef = wb_g[0] / wb_wsum[0];
  let a = (1.0 - bp.smoothing) * wy;
  let b = bp.smoothing / f32(bp.k);
  for (var j = lid; j < bp.k; j += WG) {
    let p = exp(wb_logits[base + j] - m) * inv;
    let onehot = select(0.0, 1.0, i32(j) == y);
    wb_dlogits[base + j] = (a * (p - onehot) + b * (sw * p - wb_weights[j])) * coef;
  }
}
