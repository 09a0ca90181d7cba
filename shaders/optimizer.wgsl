// Fused in-place optimizer updates, PyTorch's update formulas: SGD one dispatch per parameter, Adam
// up to five per dispatch. Layouts: param, grad and SGD's momentum buffer are flat [n] f32 of the
// same length; Adam's moments are one [2n] buffer per parameter.
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
// Adam's entry points are generated (kernels/optimizer.ts: one to five parameters per dispatch)
// around adam_update below; each parameter's two moments share one buffer [m (n values), v (n)],
// and its gradient may come as `splits` partial sums [splits, n] (a split weight gradient whose
// sum was deferred, src/tensor/tensor.ts): g is their sum, taken as it is loaded.

// One element's (V = f32) or four elements' (V = vec4f) Adam update. Shared by every group size
// so that a parameter gets the same bits whichever group it is updated in; the vec4 variant does
// per component exactly what the scalar one does.
struct AdamNew { p: V, m: V, v: V }
fn adam_update(param: V, grad: V, m0: V, v0: V, sc: vec4f, beta1: f32, beta2: f32, eps: f32) -> AdamNew {
  let w = param * (1.0 - sc.z);
  let g = grad + sc.w * w;
  let m = beta1 * m0 + (1.0 - beta1) * g;
  let v = beta2 * v0 + (1.0 - beta2) * g * g;
  return AdamNew(w - sc.x * m / (sqrt(v) / sc.y + eps), m, v);
}
