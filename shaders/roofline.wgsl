// Ceilings for the profiler's roofline: register-only FMA throughput and streaming bandwidth.

struct FmaParams { iters: u32, n: u32 }

@group(0) @binding(0) var<storage, read_write> fma_out: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> fp: FmaParams;

// 8 independent vec4 accumulators: enough to hide FMA latency on CPUs and GPUs alike.
@compute @workgroup_size(64)
fn peak_fma(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= fp.n) { return; }
  let s = f32(i) * 1e-7;
  var a0 = vec4f(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + 0.01; var a2 = a0 + 0.02; var a3 = a0 + 0.03;
  var a4 = a0 + 0.04; var a5 = a0 + 0.05; var a6 = a0 + 0.06; var a7 = a0 + 0.07;
  let m = vec4f(0.999999);
  let c = vec4f(1e-7);
  for (var k = 0u; k < fp.iters; k++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  // Written so the loop cannot be optimised away.
  fma_out[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

struct CopyParams { n4: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> cp: CopyParams;

// 8 vec4 per invocation, strided by the whole grid: neighbouring invocations touch neighbouring data.
@compute @workgroup_size(256)
fn copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let threads = nwg.x * nwg.y * 256u;
  let t = (wid.y * nwg.x + wid.x) * 256u + lid;
  for (var k = 0u; k < 8u; k++) {
    let i = t + k * threads;
    if (i < cp.n4) { dst[i] = src[i]; }
  }
}
