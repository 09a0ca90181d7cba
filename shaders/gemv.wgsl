// Products of a few rows with a weight matrix: y[r, :] = act(x[r, :] · w + bias) for x [m, k],
// w [k, n] (in, out; n % 4 == 0), m small (inference at batch 1-4: the SE blocks' linears and the
// classifier). The 8-row tiles of the GEMM kernels would compute 7 padding rows for every real
// one here; instead one invocation computes 4 adjacent outputs of one row, reading row kk of w as
// one vec4 (adjacent invocations read adjacent vec4s of the same row), four k-steps at a time
// into independent accumulators.
// KIND is the activation (kernels/activation.ts codes; 4 = identity), HAS_BIAS adds the bias.
// Grids are 2-D (grid1d in src/kernel/define-kernel.ts); linear ids are rebuilt from workgroup ids.

override HAS_BIAS: bool = false;
override KIND: u32 = 4u;

struct GemvParams { m: u32, n4: u32, k: u32 }
@group(0) @binding(0) var<storage, read> gv_x: array<f32>;
@group(0) @binding(1) var<storage, read> gv_w: array<vec4f>;
@group(0) @binding(2) var<storage, read> gv_bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> gv_y: array<vec4f>;
@group(0) @binding(4) var<uniform> gvp: GemvParams;

// gv_act(v) (the activation KIND) is appended by kernels/gemv.ts.

@compute @workgroup_size(64)
fn gemv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= gvp.m * gvp.n4) { return; }
  let r = t / gvp.n4;
  let j = t - r * gvp.n4;
  let n4 = gvp.n4;
  let xb = r * gvp.k;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var kk = 0u;
  var wi = j;
  for (; kk + 3u < gvp.k; kk += 4u) {
    a0 = fma(vec4f(gv_x[xb + kk]), gv_w[wi], a0);
    a1 = fma(vec4f(gv_x[xb + kk + 1u]), gv_w[wi + n4], a1);
    a2 = fma(vec4f(gv_x[xb + kk + 2u]), gv_w[wi + 2u * n4], a2);
    a3 = fma(vec4f(gv_x[xb + kk + 3u]), gv_w[wi + 3u * n4], a3);
    wi += 4u * n4;
  }
  for (; kk < gvp.k; kk++) {
    a0 = fma(vec4f(gv_x[xb + kk]), gv_w[wi], a0);
    wi += n4;
  }
  var v = (a0 + a1) + (a2 + a3);
  if (HAS_BIAS) { v += gv_bias[j]; }
  gv_y[t] = gv_act(v);
}
