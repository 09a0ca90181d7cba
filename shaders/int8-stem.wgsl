// int8 dense convolution over four input channels (the 3x3 stride-2 stem: RGB plus a fourth
// channel whose weights are zero), NHWC, int32 accumulation, requantization as in
// shaders/int8-requant.wgsl. Prepended with the int8 helpers (i8_dot4, i8_pack).
// Layouts (u32 words of four int8):
//   x: [n, h, w]              one word per pixel: its four channels, zero point zx
//   wt: [k * k, cout]         per tap and output channel, the four input channels' weights
//   bias: [cout] i32          b_q - zx * sum of the channel's weights (the zero point folded in)
//   mult: [cout] f32, table: [256] i32
//   y: [n, ho, wo, cout4]
// A tap outside the image reads a word of four zero points, so with the folded bias it adds
// nothing (padding with the zero point, as TensorFlow Lite and ONNX define it).
// Each invocation computes four output channels (one word) of four neighbouring output pixels.

override KSIZE: u32 = 3u;
override STRIDE: u32 = 2u;
override USE_TABLE: bool = false;

struct Int8StemParams { n: u32, h: u32, w: u32, cout4: u32, ho: u32, wo: u32, wo4: u32, pad: u32, zword: u32, zp: i32, lo: i32 }

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> wt: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<i32>;
@group(0) @binding(3) var<storage, read> mult: array<f32>;
@group(0) @binding(4) var<storage, read> table: array<i32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;
@group(0) @binding(6) var<uniform> p: Int8StemParams;

fn finish(q0: vec4<i32>) -> u32 {
  var q = q0;
  if (USE_TABLE) {
    q = vec4<i32>(table[q.x + 128], table[q.y + 128], table[q.z + 128], table[q.w + 128]);
  }
  return i8_pack(q);
}

@compute @workgroup_size(64)
fn stem(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= p.n * p.ho * p.wo4 * p.cout4) { return; }
  let cg = t % p.cout4;
  var r = t / p.cout4;
  let bx = r % p.wo4;
  r = r / p.wo4;
  let oy = r % p.ho;
  let nb = r / p.ho;
  let ox0 = bx * 4u;
  let co = cg * 4u;
  let cout = p.cout4 * 4u;
  let b4 = vec4<i32>(bias[co], bias[co + 1u], bias[co + 2u], bias[co + 3u]);
  var acc0 = b4;
  var acc1 = b4;
  var acc2 = b4;
  var acc3 = b4;
  let ix0 = i32(ox0 * STRIDE) - i32(p.pad);
  for (var ky = 0u; ky < KSIZE; ky++) {
    let iy = i32(oy * STRIDE + ky) - i32(p.pad);
    let rowOk = iy >= 0 && iy < i32(p.h);
    let rowBase = (nb * p.h + u32(clamp(iy, 0, i32(p.h) - 1))) * p.w;
    var xs: array<u32, 11>;
    for (var j = 0u; j < 3u * STRIDE + KSIZE; j++) {
      let ix = ix0 + i32(j);
      let inside = rowOk && ix >= 0 && ix < i32(p.w);
      xs[j] = select(p.zword, x[rowBase + u32(clamp(ix, 0, i32(p.w) - 1))], inside);
    }
    for (var kx = 0u; kx < KSIZE; kx++) {
      let wb = (ky * KSIZE + kx) * cout + co;
      let w0 = wt[wb];
      let w1 = wt[wb + 1u];
      let w2 = wt[wb + 2u];
      let w3 = wt[wb + 3u];
      let v0 = xs[kx];
      acc0 += vec4<i32>(i8_dot4(v0, w0), i8_dot4(v0, w1), i8_dot4(v0, w2), i8_dot4(v0, w3));
      let v1 = xs[STRIDE + kx];
      acc1 += vec4<i32>(i8_dot4(v1, w0), i8_dot4(v1, w1), i8_dot4(v1, w2), i8_dot4(v1, w3));
      let v2 = xs[2u * STRIDE + kx];
      acc2 += vec4<i32>(i8_dot4(v2, w0), i8_dot4(v2, w1), i8_dot4(v2, w2), i8_dot4(v2, w3));
      let v3 = xs[3u * STRIDE + kx];
      acc3 += vec4<i32>(i8_dot4(v3, w0), i8_dot4(v3, w1), i8_dot4(v3, w2), i8_dot4(v3, w3));
    }
  }
  let mv = vec4<f32>(mult[co], mult[co + 1u], mult[co + 2u], mult[co + 3u]);
  let ob = ((nb * p.ho + oy) * p.wo + ox0) * p.cout4 + cg;
  y[ob] = finish(requant4(acc0, mv, p.zp, p.lo));
  if (ox0 + 1u < p.wo) { y[ob + p.cout4] = finish(requant4(acc1, mv, p.zp, p.lo)); }
  if (ox0 + 2u < p.wo) { y[ob + 2u * p.cout4] = finish(requant4(acc2, mv, p.zp, p.lo)); }
  if (ox0 + 3u < p.wo) { y[ob + 3u * p.cout4] = finish(requant4(acc3, mv, p.zp, p.lo)); }
}
