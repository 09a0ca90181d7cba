// int8 GEMM with int32 accumulation: the pointwise (1x1) convolution, the linear layers and the
// SE block's two fully connected layers. Prepended with shaders/int8-native.wgsl or
// shaders/int8-fallback.wgsl (i8_dot4, i8_unpack, i8_pack) and shaders/int8-requant.wgsl.
// Layouts (u32 words of four int8, element 4k in the low byte):
//   a: [m, k4]      activations, NHWC flattened to rows (k = input channels, a multiple of 4)
//   b: [n, k4]      weights, one row per output channel (PyTorch's [out, in] order, packed along in)
//   bias: [n] i32   the int32 bias with the input zero point folded in: b_q - z_a * sum_k w_q
//   mult: [n] f32   requantization multiplier s_a * s_w[j] / s_out (FLOAT_OUT: s_a * s_w[j])
//   table: [256] i32  output value for each requantized value + 128 (USE_TABLE: h-swish, h-sigmoid)
//   res: [m, n/4]   residual added before rounding (HAS_RES), zero point zr, multiplier rmult
//   c: [m, n/4]     int8 output; or, with FLOAT_OUT, [m, n] f32 logits written as their bits
// acc[i][j] = bias[j] + sum_k a[i][k] * b[j][k]        (exact in i32: |acc| < 2^31 for k < 2^17)
// int8 out:  q = clamp(roundEven(f32(acc) * mult[j] (+ f32(r - zr) * rmult)) + zp, lo, 127)
//            then table[q + 128] with USE_TABLE
// float out: f32(acc) * mult[j]
// Each invocation computes 8 rows x 8 columns in registers: per step of four k, 8 words of a and
// 8 of b feed 64 four-way dot products (on lavapipe loads, not arithmetic, bound the time).
// Tail tiles clamp their indices (loads stay in bounds without branches) and store the valid part;
// n is a multiple of 4 for int8 output, any n for float output.

override USE_TABLE: bool = false;
override HAS_RES: bool = false;
override FLOAT_OUT: bool = false;

struct Int8GemmParams { m: u32, n: u32, k4: u32, tiles_m: u32, tiles_n: u32, zp: i32, lo: i32, zr: i32, rmult: f32 }

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<i32>;
@group(0) @binding(3) var<storage, read> mult: array<f32>;
@group(0) @binding(4) var<storage, read> table: array<i32>;
@group(0) @binding(5) var<storage, read> res: array<u32>;
@group(0) @binding(6) var<storage, read_write> c: array<u32>;
@group(0) @binding(7) var<uniform> p: Int8GemmParams;

fn col4(n0: u32) -> vec4<u32> {
  return min(vec4<u32>(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4<u32>(p.n - 1u));
}

// Epilogue for four columns n0..n0+3 of one row; b4 and m4 are those columns' bias and
// multiplier, loaded once per invocation (not once per row: on lavapipe every load counts).
fn store4(row: u32, n0: u32, acc: vec4<i32>, b4: vec4<i32>, m4: vec4<f32>) {
  if (row >= p.m || n0 >= p.n) { return; }
  let bsum = acc + b4;
  if (FLOAT_OUT) {
    let v = vec4<f32>(bsum) * m4;
    let o = row * p.n + n0;
    c[o] = bitcast<u32>(v.x);
    if (n0 + 1u < p.n) { c[o + 1u] = bitcast<u32>(v.y); }
    if (n0 + 2u < p.n) { c[o + 2u] = bitcast<u32>(v.z); }
    if (n0 + 3u < p.n) { c[o + 3u] = bitcast<u32>(v.w); }
    return;
  }
  let w = row * (p.n / 4u) + n0 / 4u;
  var q: vec4<i32>;
  if (HAS_RES) {
    let r = vec4<f32>(i8_unpack(res[w]) - vec4<i32>(p.zr));
    let v = round(vec4<f32>(bsum) * m4 + r * p.rmult);
    q = clamp(vec4<i32>(v) + vec4<i32>(p.zp), vec4<i32>(p.lo), vec4<i32>(127));
  } else {
    q = requant4(bsum, m4, p.zp, p.lo);
  }
  if (USE_TABLE) {
    q = vec4<i32>(table[q.x + 128], table[q.y + 128], table[q.z + 128], table[q.w + 128]);
  }
  c[w] = i8_pack(q);
}

fn dots(x: u32, w0: u32, w1: u32, w2: u32, w3: u32) -> vec4<i32> {
  return vec4<i32>(i8_dot4(x, w0), i8_dot4(x, w1), i8_dot4(x, w2), i8_dot4(x, w3));
}

@compute @workgroup_size(64)
fn gemm(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= p.tiles_m * p.tiles_n) { return; }
  let tm = t / p.tiles_n;
  let tn = t - tm * p.tiles_n;
  let m0 = tm * 8u;
  let n0 = tn * 8u;
  let ml = p.m - 1u;
  let nl = p.n - 1u;
  let a0 = min(m0, ml) * p.k4;
  let a1 = min(m0 + 1u, ml) * p.k4;
  let a2 = min(m0 + 2u, ml) * p.k4;
  let a3 = min(m0 + 3u, ml) * p.k4;
  let a4 = min(m0 + 4u, ml) * p.k4;
  let a5 = min(m0 + 5u, ml) * p.k4;
  let a6 = min(m0 + 6u, ml) * p.k4;
  let a7 = min(m0 + 7u, ml) * p.k4;
  let b0 = min(n0, nl) * p.k4;
  let b1 = min(n0 + 1u, nl) * p.k4;
  let b2 = min(n0 + 2u, nl) * p.k4;
  let b3 = min(n0 + 3u, nl) * p.k4;
  let b4 = min(n0 + 4u, nl) * p.k4;
  let b5 = min(n0 + 5u, nl) * p.k4;
  let b6 = min(n0 + 6u, nl) * p.k4;
  let b7 = min(n0 + 7u, nl) * p.k4;
  var c0l = vec4<i32>(0);
  var c0h = vec4<i32>(0);
  var c1l = vec4<i32>(0);
  var c1h = vec4<i32>(0);
  var c2l = vec4<i32>(0);
  var c2h = vec4<i32>(0);
  var c3l = vec4<i32>(0);
  var c3h = vec4<i32>(0);
  var c4l = vec4<i32>(0);
  var c4h = vec4<i32>(0);
  var c5l = vec4<i32>(0);
  var c5h = vec4<i32>(0);
  var c6l = vec4<i32>(0);
  var c6h = vec4<i32>(0);
  var c7l = vec4<i32>(0);
  var c7h = vec4<i32>(0);
  for (var kk = 0u; kk < p.k4; kk++) {
    let w0 = b[b0 + kk];
    let w1 = b[b1 + kk];
    let w2 = b[b2 + kk];
    let w3 = b[b3 + kk];
    let w4 = b[b4 + kk];
    let w5 = b[b5 + kk];
    let w6 = b[b6 + kk];
    let w7 = b[b7 + kk];
    let x0 = a[a0 + kk];
    c0l += dots(x0, w0, w1, w2, w3);
    c0h += dots(x0, w4, w5, w6, w7);
    let x1 = a[a1 + kk];
    c1l += dots(x1, w0, w1, w2, w3);
    c1h += dots(x1, w4, w5, w6, w7);
    let x2 = a[a2 + kk];
    c2l += dots(x2, w0, w1, w2, w3);
    c2h += dots(x2, w4, w5, w6, w7);
    let x3 = a[a3 + kk];
    c3l += dots(x3, w0, w1, w2, w3);
    c3h += dots(x3, w4, w5, w6, w7);
    let x4 = a[a4 + kk];
    c4l += dots(x4, w0, w1, w2, w3);
    c4h += dots(x4, w4, w5, w6, w7);
    let x5 = a[a5 + kk];
    c5l += dots(x5, w0, w1, w2, w3);
    c5h += dots(x5, w4, w5, w6, w7);
    let x6 = a[a6 + kk];
    c6l += dots(x6, w0, w1, w2, w3);
    c6h += dots(x6, w4, w5, w6, w7);
    let x7 = a[a7 + kk];
    c7l += dots(x7, w0, w1, w2, w3);
    c7h += dots(x7, w4, w5, w6, w7);
  }
  let jl = col4(n0);
  let jh = col4(n0 + 4u);
  let bvl = vec4<i32>(bias[jl.x], bias[jl.y], bias[jl.z], bias[jl.w]);
  let bvh = vec4<i32>(bias[jh.x], bias[jh.y], bias[jh.z], bias[jh.w]);
  let mvl = vec4<f32>(mult[jl.x], mult[jl.y], mult[jl.z], mult[jl.w]);
  let mvh = vec4<f32>(mult[jh.x], mult[jh.y], mult[jh.z], mult[jh.w]);
  store4(m0, n0, c0l, bvl, mvl);
  store4(m0, n0 + 4u, c0h, bvh, mvh);
  store4(m0 + 1u, n0, c1l, bvl, mvl);
  store4(m0 + 1u, n0 + 4u, c1h, bvh, mvh);
  store4(m0 + 2u, n0, c2l, bvl, mvl);
  store4(m0 + 2u, n0 + 4u, c2h, bvh, mvh);
  store4(m0 + 3u, n0, c3l, bvl, mvl);
  store4(m0 + 3u, n0 + 4u, c3h, bvh, mvh);
  store4(m0 + 4u, n0, c4l, bvl, mvl);
  store4(m0 + 4u, n0 + 4u, c4h, bvh, mvh);
  store4(m0 + 5u, n0, c5l, bvl, mvl);
  store4(m0 + 5u, n0 + 4u, c5h, bvh, mvh);
  store4(m0 + 6u, n0, c6l, bvl, mvl);
  store4(m0 + 6u, n0 + 4u, c6h, bvh, mvh);
  store4(m0 + 7u, n0, c7l, bvl, mvl);
  store4(m0 + 7u, n0 + 4u, c7h, bvh, mvh);
}

// Few rows (batch-1 linear layers, SE at small batch): one row and 8 columns per invocation, so
// no invocation repeats another's rows (the 8x8 tile would compute 8 copies of a single row).
@compute @workgroup_size(64)
fn gemv(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= p.m * p.tiles_n) { return; }
  let row = t / p.tiles_n;
  let n0 = (t - row * p.tiles_n) * 8u;
  let nl = p.n - 1u;
  let ar = row * p.k4;
  let b0 = min(n0, nl) * p.k4;
  let b1 = min(n0 + 1u, nl) * p.k4;
  let b2 = min(n0 + 2u, nl) * p.k4;
  let b3 = min(n0 + 3u, nl) * p.k4;
  let b4 = min(n0 + 4u, nl) * p.k4;
  let b5 = min(n0 + 5u, nl) * p.k4;
  let b6 = min(n0 + 6u, nl) * p.k4;
  let b7 = min(n0 + 7u, nl) * p.k4;
  var lo = vec4<i32>(0);
  var hi = vec4<i32>(0);
  for (var kk = 0u; kk < p.k4; kk++) {
    let x = a[ar + kk];
    lo += dots(x, b[b0 + kk], b[b1 + kk], b[b2 + kk], b[b3 + kk]);
    hi += dots(x, b[b4 + kk], b[b5 + kk], b[b6 + kk], b[b7 + kk]);
  }
  let jl = col4(n0);
  let jh = col4(n0 + 4u);
  store4(row, n0, lo, vec4<i32>(bias[jl.x], bias[jl.y], bias[jl.z], bias[jl.w]), vec4<f32>(mult[jl.x], mult[jl.y], mult[jl.z], mult[jl.w]));
  store4(row, n0 + 4u, hi, vec4<i32>(bias[jh.x], bias[jh.y], bias[jh.z], bias[jh.w]), vec4<f32>(mult[jh.x], mult[jh.y], mult[jh.z], mult[jh.w]));
}
