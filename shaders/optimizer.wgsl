// Fused in-place optimizer updates, one dispatch per parameter, PyTorch's update formulas.
// Layouts: param, grad and every state buffer are flat [n] f32 of the same length.
// Per-step scalars (learning rate, bias corrections, momentum factors) arrive in the uniforms, so
// the host never reads anything back.

// ---- SGD without momentum: p -= lr * (g + wd * p) ----
struct SgdParams { n: u32, lr: f32, weight_decay: f32 }
@group(0) @binding(0) var<storage, read> sg_grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> sg_param: array<f32>;
@group(0) @binding(2) var<uniform> sp: SgdParams;

@compute @workgroup_size(256)
fn sgd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= sp.n) { return; }
  let w = sg_param[i];
  sg_param[i] = w - sp.lr * (sg_grad[i] + sp.weight_decay * w);
}

// ---- SGD with momentum (torch.optim.SGD) ----
// d = g + wd * p;  buf = buf_keep * buf + grad_scale * d;  d = nesterov ? d + momentum * buf : buf;
// p -= lr * d. The host sets buf_keep = 0, grad_scale = 1 on a buffer's first step (torch clones d
// into a fresh buffer), then buf_keep = momentum, grad_scale = 1 - dampening.
struct MomentumParams { n: u32, lr: f32, weight_decay: f32, momentum: f32, buf_keep: f32, grad_scale: f32, nesterov: u32 }
@group(0) @binding(0) var<storage, read> sm_grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> sm_param: array<f32>;
@group(0) @binding(2) var<storage, read_write> sm_buf: array<f32>;
@group(0) @binding(3) var<uniform> mp: MomentumParams;

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= mp.n) { return; }
  let w = sm_param[i];
  let d = sm_grad[i] + mp.weight_decay * w;
  let b = mp.buf_keep * sm_buf[i] + mp.grad_scale * d;
  sm_buf[i] = b;
  let step = select(b, d + mp.momentum * b, mp.nesterov != 0u);
  sm_param[i] = w - mp.lr * step;
}

// ---- Adam / AdamW (torch.optim.Adam, torch.optim.AdamW, amsgrad off) ----
// p *= 1 - decay                        (AdamW's decoupled decay lr * wd; 0 for Adam)
// g' = g + l2 * p                        (Adam's L2 weight decay; 0 for AdamW)
// m = beta1 * m + (1 - beta1) * g';  v = beta2 * v + (1 - beta2) * g'^2
// p -= step_size * m / (sqrt(v) / bc2_sqrt + eps),  step_size = lr / (1 - beta1^t),
// bc2_sqrt = sqrt(1 - beta2^t), both computed in float64 on the host.
struct AdamParams { n: u32, beta1: f32, beta2: f32, eps: f32, l2: f32, decay: f32, step_size: f32, bc2_sqrt: f32 }
@group(0) @binding(0) var<storage, read> ad_grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> ad_param: array<f32>;
@group(0) @binding(2) var<storage, read_write> ad_m: array<f32>;
@group(0) @binding(3) var<storage, read_write> ad_v: array<f32>;
@group(0) @binding(4) var<uniform> ap: AdamParams;

@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= ap.n) { return; }
  let w = ad_param[i] * (1.0 - ap.decay);
  let g = ad_grad[i] + ap.l2 * w;
  let m = ap.beta1 * ad_m[i] + (1.0 - ap.beta1) * g;
  let v = ap.beta2 * ad_v[i] + (1.0 - ap.beta2) * g * g;
  ad_m[i] = m;
  ad_v[i] = v;
  ad_param[i] = w - ap.step_size * m / (sqrt(v) / ap.bc2_sqrt + ap.eps);
}
