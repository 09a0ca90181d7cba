// Fused in-place optimizer updates, one dispatch per parameter, PyTorch's update formulas.
// Layouts: param, grad and every state buffer are flat [n] f32 of the same length.
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
struct AdamParams { n: u32, beta1: f32, beta2: f32, eps: f32, slot: u32 }
@group(0) @binding(0) var<storage, read> ad_grad: array<f32>;
@group(0) @binding(1) var<storage, read> ad_scalars: array<f32>;
@group(0) @binding(2) var<storage, read_write> ad_param: array<f32>;
@group(0) @binding(3) var<storage, read_write> ad_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> ad_v: array<f32>;
@group(0) @binding(5) var<uniform> ap: AdamParams;

@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= ap.n) { return; }
  let s = ap.slot * 4u;
  let step_size = ad_scalars[s];
  let bc2_sqrt = ad_scalars[s + 1u];
  let w = ad_param[i] * (1.0 - ad_scalars[s + 2u]);
  let g = ad_grad[i] + ad_scalars[s + 3u] * w;
  let m = ap.beta1 * ad_m[i] + (1.0 - ap.beta1) * g;
  let v = ap.beta2 * ad_v[i] + (1.0 - ap.beta2) * g * g;
  ad_m[i] = m;
  ad_v[i] = v;
  ad_param[i] = w - step_size * m / (sqrt(v) / bc2_sqrt + ap.eps);
}
