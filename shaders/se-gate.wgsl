// Squeeze-and-excitation's gate for inference at small batches, one workgroup per image:
//   gate[n, :] = hsigmoid(relu(mean_hw(x[n]) · w1 + b1) · w2 + b2)
// for x [N, HW, C], w1 [C, S], w2 [S, C] (1x1-conv weights as [in, out]), C and S in fours.
// At batch 1 the separate kernels (pool, two gemv launches) each run on one or two workgroups
// anyway, so one workgroup doing all three costs no parallelism and saves two launches per block.
// The pooled vector and the hidden layer stay in workgroup memory (C, S <= 1024).
// se_relu / se_hsig are appended by kernels/squeeze-excite.ts (kernels/activation.ts).

override RELU_KIND: u32 = 0u;
override HSIG_KIND: u32 = 3u;

struct GateParams { n: u32, hw: u32, cv: u32, sv: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> gt_x: array<vec4f>;
@group(0) @binding(1) var<storage, read> gt_w1: array<vec4f>;
@group(0) @binding(2) var<storage, read> gt_b1: array<vec4f>;
@group(0) @binding(3) var<storage, read> gt_w2: array<vec4f>;
@group(0) @binding(4) var<storage, read> gt_b2: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> gt_gate: array<vec4f>;
@group(0) @binding(6) var<uniform> gtp: GateParams;

var<workgroup> gt_pool: array<vec4f, 256>;
var<workgroup> gt_hid: array<vec4f, 256>;
var<workgroup> gt_red: array<vec4f, 64>;

// Output vec4 j of v · w for v [k4 vec4s] in workgroup memory and w [4*k4, n4] vec4s: fc1
// (the pooled vector, w1) or, with `second`, fc2 (the hidden layer, w2). `second` is a literal at
// each call, so the other branch folds away. Four independent accumulators (as gemv), each over
// one row of every group of four.
fn gt_dot(second: bool, j: u32, n4: u32, k4: u32) -> vec4f {
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var wi = j;
  for (var q = 0u; q < k4; q++) {
    var v: vec4f;
    var w: array<vec4f, 4>;
    if (second) {
      v = gt_hid[q];
      w = array(gt_w2[wi], gt_w2[wi + n4], gt_w2[wi + 2u * n4], gt_w2[wi + 3u * n4]);
    } else {
      v = gt_pool[q];
      w = array(gt_w1[wi], gt_w1[wi + n4], gt_w1[wi + 2u * n4], gt_w1[wi + 3u * n4]);
    }
    a0 = fma(vec4f(v.x), w[0], a0);
    a1 = fma(vec4f(v.y), w[1], a1);
    a2 = fma(vec4f(v.z), w[2], a2);
    a3 = fma(vec4f(v.w), w[3], a3);
    wi += 4u * n4;
  }
  return (a0 + a1) + (a2 + a3);
}

@compute @workgroup_size(64)
fn se_gate(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x;
  let cv = gtp.cv;
  let sv = gtp.sv;
  let base = n * gtp.hw * cv;
  // Pool: with 64 channel groups or more each thread sums whole columns; with fewer, the
  // positions are dealt out to 64 / cv threads per group and their sums added after a barrier.
  if (cv >= 64u) {
    for (var g = lid; g < cv; g += 64u) {
      var a = vec4f(0.0);
      for (var p = 0u; p < gtp.hw; p++) { a += gt_x[base + p * cv + g]; }
      gt_pool[g] = a * gtp.scale;
    }
  } else {
    let tpg = 64u / cv;
    let ph = lid / cv;
    let g = lid - ph * cv;
    var a = vec4f(0.0);
    if (ph < tpg) {
      for (var p = ph; p < gtp.hw; p += tpg) { a += gt_x[base + p * cv + g]; }
    }
    gt_red[lid] = a;
    workgroupBarrier();
    if (lid < cv) {
      var s = vec4f(0.0);
      for (var k = 0u; k < tpg; k++) { s += gt_red[k * cv + lid]; }
      gt_pool[lid] = s * gtp.scale;
    }
  }
  workgroupBarrier();
  for (var j = lid; j < sv; j += 64u) { gt_hid[j] = se_relu(gt_dot(false, j, sv, cv) + gt_b1[j]); }
  workgroupBarrier();
  for (var j = lid; j < cv; j += 64u) { gt_gate[n * cv + j] = se_hsig(gt_dot(true, j, cv, sv) + gt_b2[j]); }
}
