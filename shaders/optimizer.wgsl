// Fused in-place optimizer updates, one dispatch per parameter, PyTorch's update formulas.
// Layouts: param, grad and every state buffer are flat [n] f32 of the same length.
// Compiled with `alias V = f32;` first (kernels/optimizer.ts); Adam also with `alias V = vec4f;`
// for parameters whose sizes are multiples of 4 (one bounds-checked load per four values).
// Per-step scalars (learning rate, bias corrections, first-step factors) arrive in a small storage
// buffer the host writes once per step, 4 floats per parameter at `slot * 4`; the uniforms hold only
// what is fixed for the optimizer. A recorded training step therefore stays valid as the schedule
// moves, and the host never reads anything back.

// ---- SGD without momentum: p -= lr * (g + wd * p); scalars [lr, weight_decay, -, -] ----
struct SgdParams { n: u32, slot: u32 }
@group(0) @binding(0) var<storage, read> sg_grad: array<f32>;
@group(0) @binding(1) var<storage, read> sg_scalars: array<f32>;
@group(0) @binding(2) var<storage, read_write> sg_param: array<f32>;
@group(0) @binding(3) var<uniform> sp: SgdParams;

@compute @workgroup_size(256)
fn sgd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= sp.n) { return; }
  let lr = sg_scalars[sp.slot * 4u];
  let wd = sg_scalars[sp.slot * 4u + 1u];
  let w = sg_param[i];
  sg_param[i] = w - lr * (sg_grad[i] + wd * w);
}

// ---- SGD with momentum (torch.optim.SGD) ----
// d = g + wd * p;  buf = buf_keep * buf + grad_scale * d;  d = nesterov ? d + momentum * buf : buf;
// p -= lr * d. The host sets buf_keep = 0, grad_scale = 1 on a buffer's first step (torch clones d
// into a fresh buffer), then buf_keep = momentum, grad_scale = 1 - dampening.
// Scalars [lr, weight_decay, buf_keep, grad_scale].
struct MomentumParams { n: u32, momentum: f32, nesterov: u32, slot: u32 }
@group(0) @binding(0) var<storage, read> sm_grad: array<f32>;
@group(0) @binding(1) var<storage, read> sm_scalars: array<f32>;
@group(0) @binding(2) var<storage, read_write> sm_param: array<f32>;
@group(0) @binding(3) var<storage, read_write> sm_buf: array<f32>;
@group(0) @binding(4) var<uniform> mp: MomentumParams;

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= mp.n) { return; }
  let s = mp.slot * 4u;
  let w = sm_param[i];
  let d = sm_grad[i] + sm_scalars[s + 1u] * w;
  let b = sm_scalars[s + 2u] * sm_buf[i] + sm_scalars[s + 3u] * d;
  sm_buf[i] = b;
  let step = select(b, d + mp.momentum * b, mp.nesterov != 0u);
  sm_param[i] = w - sm_scalars[s] * step;
}

// ---- Adam / AdamW (torch.optim.Adam, torch.optim.AdamW, amsgrad off) ----
// p *= 1 - decay                        (AdamW's decoupled decay lr * wd; 0 for Adam)
// g' = g + l2 * p                        (Adam's L2 weight decay; 0 for AdamW)
// m = beta1 * m + (1 - beta1) * g';  v = beta2 * v + (1 - beta2) * g'^2
// p -= step_size * m / (sqrt(v) / bc2_sqrt + eps),  step_size = lr / (1 - beta1^t),
// bc2_sqrt = sqrt(1 - beta2^t), both computed in float64 on the host.
// Scalars [step_size, bc2_sqrt, decay, l2].
// A gradient may come as `splits` partial sums [splits, n] (a split-K weight gradient whose sum was
// deferred, src/tensor/tensor.ts): g is their sum, taken here instead of in a dispatch of its own.
struct AdamParams { n: u32, beta1: f32, beta2: f32, eps: f32, slot: u32, splits: u32 }
@group(0) @binding(0) var<storage, read> ad_grad: array<V>;
@group(0) @binding(1) var<storage, read> ad_scalars: array<f32>;
@group(0) @binding(2) var<storage, read_write> ad_param: array<V>;
@group(0) @binding(3) var<storage, read_write> ad_m: array<V>;
@group(0) @binding(4) var<storage, read_write> ad_v: array<V>;
@group(0) @binding(5) var<uniform> ap: AdamParams;

// One element's (V = f32) or four elements' (V = vec4f) Adam update. Shared by both entry points
// so that a parameter updated alone or in a group of three gets the same bits; the vec4 variant
// does per component exactly what the scalar one does.
struct AdamNew { p: V, m: V, v: V }
fn adam_update(param: V, grad: V, m0: V, v0: V, sc: vec4f, beta1: f32, beta2: f32, eps: f32) -> AdamNew {
  let w = param * (1.0 - sc.z);
  let g = grad + sc.w * w;
  let m = beta1 * m0 + (1.0 - beta1) * g;
  let v = beta2 * v0 + (1.0 - beta2) * g * g;
  return AdamNew(w - sc.x * m / (sqrt(v) / sc.y + eps), m, v);
}

@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= ap.n) { return; }
  let s = ap.slot * 4u;
  let sc = vec4f(ad_scalars[s], ad_scalars[s + 1u], ad_scalars[s + 2u], ad_scalars[s + 3u]);
  var g = ad_grad[i];
  for (var q = 1u; q < ap.splits; q++) { g += ad_grad[q * ap.n + i]; }
  let r = adam_update(ad_param[i], g, ad_m[i], ad_v[i], sc, ap.beta1, ap.beta2, ap.eps);
  ad_param[i] = r.p;
  ad_m[i] = r.m;
  ad_v[i] = r.v;
}

// ---- Adam / AdamW over three parameters in one dispatch (multi-tensor apply) ----
// Sizes n0..n2 are in elements of V (a quarter of the floats in the vec4 variant).
// Workgroups [0, wg1) update parameter 0, [wg1, wg2) parameter 1, [wg2, end) parameter 2, 256
// elements each; every workgroup works on one parameter, so the switch below is uniform within it.
// Three is what fits the 16 storage bindings an adapter may give (4 per parameter + the scalars).
struct Adam3Params { n0: u32, n1: u32, n2: u32, slot0: u32, slot1: u32, slot2: u32, wg1: u32, wg2: u32, beta1: f32, beta2: f32, eps: f32, splits0: u32, splits1: u32, splits2: u32 }
@group(0) @binding(0) var<storage, read> a3_grad0: array<V>;
@group(0) @binding(1) var<storage, read> a3_grad1: array<V>;
@group(0) @binding(2) var<storage, read> a3_grad2: array<V>;
@group(0) @binding(3) var<storage, read> a3_scalars: array<f32>;
@group(0) @binding(4) var<storage, read_write> a3_param0: array<V>;
@group(0) @binding(5) var<storage, read_write> a3_m0: array<V>;
@group(0) @binding(6) var<storage, read_write> a3_v0: array<V>;
@group(0) @binding(7) var<storage, read_write> a3_param1: array<V>;
@group(0) @binding(8) var<storage, read_write> a3_m1: array<V>;
@group(0) @binding(9) var<storage, read_write> a3_v1: array<V>;
@group(0) @binding(10) var<storage, read_write> a3_param2: array<V>;
@group(0) @binding(11) var<storage, read_write> a3_m2: array<V>;
@group(0) @binding(12) var<storage, read_write> a3_v2: array<V>;
@group(0) @binding(13) var<uniform> a3: Adam3Params;

fn a3_scalars_of(slot: u32) -> vec4f {
  let s = slot * 4u;
  return vec4f(a3_scalars[s], a3_scalars[s + 1u], a3_scalars[s + 2u], a3_scalars[s + 3u]);
}

@compute @workgroup_size(256)
fn adam3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wg = wid.y * nwg.x + wid.x;
  if (wg < a3.wg1) {
    let i = wg * 256u + lid;
    if (i >= a3.n0) { return; }
    var g = a3_grad0[i];
    for (var q = 1u; q < a3.splits0; q++) { g += a3_grad0[q * a3.n0 + i]; }
    let r = adam_update(a3_param0[i], g, a3_m0[i], a3_v0[i], a3_scalars_of(a3.slot0), a3.beta1, a3.beta2, a3.eps);
    a3_param0[i] = r.p;
    a3_m0[i] = r.m;
    a3_v0[i] = r.v;
  } else if (wg < a3.wg2) {
    let i = (wg - a3.wg1) * 256u + lid;
    if (i >= a3.n1) { return; }
    var g = a3_grad1[i];
    for (var q = 1u; q < a3.splits1; q++) { g += a3_grad1[q * a3.n1 + i]; }
    let r = adam_update(a3_param1[i], g, a3_m1[i], a3_v1[i], a3_scalars_of(a3.slot1), a3.beta1, a3.beta2, a3.eps);
    a3_param1[i] = r.p;
    a3_m1[i] = r.m;
    a3_v1[i] = r.v;
  } else {
    let i = (wg - a3.wg2) * 256u + lid;
    if (i >= a3.n2) { return; }
    var g = a3_grad2[i];
    for (var q = 1u; q < a3.splits2; q++) { g += a3_grad2[q * a3.n2 + i]; }
    let r = adam_update(a3_param2[i], g, a3_m2[i], a3_v2[i], a3_scalars_of(a3.slot2), a3.beta1, a3.beta2, a3.eps);
    a3_param2[i] = r.p;
    a3_m2[i] = r.m;
    a3_v2[i] = r.v;
  }
}
