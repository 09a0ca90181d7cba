// The memory-bound int8 kernels: quantizing the input image, global average pooling, the SE
// block's channel scaling, and dequantization (for checks and the per-layer SQNR table).
// Prepended with the int8 helpers (i8_unpack, i8_pack) and shaders/int8-requant.wgsl.
// int8 tensors are u32 words of four channels (element 4k in the low byte).

// quantize_input: 8-bit RGB pixels (packed four bytes to a word, as uploadImages makes them) ->
// [pixels] words of four int8: R, G, B quantized through a per-channel table of the 256 pixel
// values (the table holds the exact result of normalization and quantization, computed on the
// CPU), and a fourth byte equal to the zero point (its weights are zero).
struct QuantizeInputParams { pixels: u32, zp: i32 }
@group(0) @binding(0) var<storage, read> qi_pixels: array<u32>;
@group(0) @binding(1) var<storage, read> qi_table: array<i32>;
@group(0) @binding(2) var<storage, read_write> qi_out: array<u32>;
@group(0) @binding(3) var<uniform> qi: QuantizeInputParams;

fn pixel_byte(i: u32) -> u32 {
  return (qi_pixels[i / 4u] >> (8u * (i % 4u))) & 0xffu;
}

@compute @workgroup_size(64)
fn quantize_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= qi.pixels) { return; }
  let r = qi_table[pixel_byte(3u * t)];
  let g = qi_table[256u + pixel_byte(3u * t + 1u)];
  let b = qi_table[512u + pixel_byte(3u * t + 2u)];
  qi_out[t] = i8_pack(vec4<i32>(r, g, b, qi.zp));
}

// pool: x [n, hw, c4] -> y [n, c4]: q = clamp(roundEven(f32(sum of (x - zx)) * mult) + zp),
// mult = s_x / (hw * s_y). The sum is exact in i32 (hw * 255 < 2^31).
struct Int8PoolParams { n: u32, hw: u32, c4: u32, zx: i32, zp: i32, mult: f32 }
@group(0) @binding(0) var<storage, read> pool_x: array<u32>;
@group(0) @binding(1) var<storage, read_write> pool_y: array<u32>;
@group(0) @binding(2) var<uniform> pp: Int8PoolParams;

@compute @workgroup_size(64)
fn pool(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= pp.n * pp.c4) { return; }
  let cg = t % pp.c4;
  let nb = t / pp.c4;
  var s = vec4<i32>(0);
  var i = nb * pp.hw * pp.c4 + cg;
  for (var k = 0u; k < pp.hw; k++) {
    s += i8_unpack(pool_x[i]);
    i += pp.c4;
  }
  s -= vec4<i32>(pp.zx * i32(pp.hw));
  pool_y[t] = i8_pack(requant4(s, vec4<f32>(pp.mult), pp.zp, -128));
}

// se_scale: x [n, hw, c4] times the gate g [n, c4] (the SE block's h-sigmoid output, int8):
// q = clamp(roundEven(f32((x - zx) * (g - zg)) * mult) + zp), mult = s_x * s_g / s_y.
// Each invocation takes one channel word of four neighbouring pixels (16 int8, one gate load).
struct SeScaleParams { n: u32, hw: u32, c4: u32, hw4: u32, zx: i32, zg: i32, zp: i32, mult: f32 }
@group(0) @binding(0) var<storage, read> se_x: array<u32>;
@group(0) @binding(1) var<storage, read> se_g: array<u32>;
@group(0) @binding(2) var<storage, read_write> se_y: array<u32>;
@group(0) @binding(3) var<uniform> sp: SeScaleParams;

fn se_one(i: u32, g: vec4<i32>) {
  let prod = (i8_unpack(se_x[i]) - vec4<i32>(sp.zx)) * g;
  se_y[i] = i8_pack(requant4(prod, vec4<f32>(sp.mult), sp.zp, -128));
}

@compute @workgroup_size(64)
fn se_scale(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= sp.n * sp.hw4 * sp.c4) { return; }
  let cg = t % sp.c4;
  let r = t / sp.c4;
  let pb = r % sp.hw4;
  let nb = r / sp.hw4;
  let g = i8_unpack(se_g[nb * sp.c4 + cg]) - vec4<i32>(sp.zg);
  let p0 = pb * 4u;
  let base = (nb * sp.hw + p0) * sp.c4 + cg;
  se_one(base, g);
  if (p0 + 1u < sp.hw) { se_one(base + sp.c4, g); }
  if (p0 + 2u < sp.hw) { se_one(base + 2u * sp.c4, g); }
  if (p0 + 3u < sp.hw) { se_one(base + 3u * sp.c4, g); }
}

// dequantize: f32 value of each int8 element: (q - zp) * scale.
struct DequantizeParams { count: u32, zp: i32, scale: f32 }
@group(0) @binding(0) var<storage, read> dq_x: array<u32>;
@group(0) @binding(1) var<storage, read_write> dq_y: array<f32>;
@group(0) @binding(2) var<uniform> dp: DequantizeParams;

@compute @workgroup_size(64)
fn dequantize(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= dp.count) { return; }
  let q = i8_unpack(dq_x[t / 4u]);
  dq_y[t] = f32(q[t % 4u] - dp.zp) * dp.scale;
}
