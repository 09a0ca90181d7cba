// int8 depthwise convolution (k x k, stride 1 or 2, padding (k-1)/2 as MobileNetV3 uses), NHWC,
// with int32 accumulation and the requantization of shaders/int8-requant.wgsl (ReLU as the lower
// clamp, h-swish as a 256-entry table). Prepended with the int8 helpers (i8_unpack, i8_pack).
// Layouts (u32 words of four int8 channels):
//   x: [n, h, w, c4]          input, zero point zx
//   wt: [k * k, c4]           weights per tap (ky, kx), four channels to a word
//   bias: [c] i32, mult: [c] f32, table: [256] i32
//   y: [n, ho, wo, c4]
// acc[c] = bias[c] + sum over taps of (x - zx) * w: a tap outside the image contributes nothing,
// exactly as if the image were padded with its zero point (TensorFlow Lite and ONNX semantics).
// Each invocation computes four channels of four neighbouring output pixels in a row (16 int8):
// it loads the 3*S + K input words of each kernel row once and reuses them across the outputs.

override KSIZE: u32 = 3u;
override STRIDE: u32 = 1u;
override USE_TABLE: bool = false;

struct Int8DwParams { n: u32, h: u32, w: u32, c4: u32, ho: u32, wo: u32, wo4: u32, pad: u32, zx: i32, zp: i32, lo: i32 }

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> wt: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<i32>;
@group(0) @binding(3) var<storage, read> mult: array<f32>;
@group(0) @binding(4) var<storage, read> table: array<i32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;
@group(0) @binding(6) var<uniform> p: Int8DwParams;

fn finish(q0: vec4<i32>) -> u32 {
  var q = q0;
  if (USE_TABLE) {
    q = vec4<i32>(table[q.x + 128], table[q.y + 128], table[q.z + 128], table[q.w + 128]);
  }
  return i8_pack(q);
}

@compute @workgroup_size(64)
fn depthwise(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= p.n * p.ho * p.wo4 * p.c4) { return; }
  let cg = t % p.c4;
  var r = t / p.c4;
  let bx = r % p.wo4;
  r = r / p.wo4;
  let oy = r % p.ho;
  let nb = r / p.ho;
  let ox0 = bx * 4u;
  let ch = cg * 4u;
  let b4 = vec4<i32>(bias[ch], bias[ch + 1u], bias[ch + 2u], bias[ch + 3u]);
  var acc0 = b4;
  var acc1 = b4;
  var acc2 = b4;
  var acc3 = b4;
  let zx = vec4<i32>(p.zx);
  let ix0 = i32(ox0 * STRIDE) - i32(p.pad);
  for (var ky = 0u; ky < KSIZE; ky++) {
    let iy = i32(oy * STRIDE + ky) - i32(p.pad);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    let rowBase = (nb * p.h + u32(iy)) * p.w;
    // The input words this kernel row needs for the four outputs, zero point subtracted.
    var xs: array<vec4<i32>, 11>;
    for (var j = 0u; j < 3u * STRIDE + KSIZE; j++) {
      let ix = ix0 + i32(j);
      let inside = ix >= 0 && ix < i32(p.w);
      let word = x[(rowBase + u32(clamp(ix, 0, i32(p.w) - 1))) * p.c4 + cg];
      xs[j] = select(vec4<i32>(0), i8_unpack(word) - zx, inside);
    }
    for (var kx = 0u; kx < KSIZE; kx++) {
      let wv = i8_unpack(wt[(ky * KSIZE + kx) * p.c4 + cg]);
      acc0 += xs[kx] * wv;
      acc1 += xs[STRIDE + kx] * wv;
      acc2 += xs[2u * STRIDE + kx] * wv;
      acc3 += xs[3u * STRIDE + kx] * wv;
    }
  }
  let mv = vec4<f32>(mult[ch], mult[ch + 1u], mult[ch + 2u], mult[ch + 3u]);
  let ob = ((nb * p.ho + oy) * p.wo + ox0) * p.c4 + cg;
  y[ob] = finish(requant4(acc0, mv, p.zp, p.lo));
  if (ox0 + 1u < p.wo) { y[ob + p.c4] = finish(requant4(acc1, mv, p.zp, p.lo)); }
  if (ox0 + 2u < p.wo) { y[ob + 2u * p.c4] = finish(requant4(acc2, mv, p.zp, p.lo)); }
  if (ox0 + 3u < p.wo) { y[ob + 3u * p.c4] = finish(requant4(acc3, mv, p.zp, p.lo)); }
}
