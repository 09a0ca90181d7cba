// Fake quantization for quantization-aware training (float32 in, float32 out): the value the
// int8 model would see, with a straight-through gradient.
//   fq_forward:   y = (clamp(roundEven(x / s) + zp, lo, hi) - zp) * s      (per tensor)
//   fq_backward:  dx = g where lo <= roundEven(x / s) + zp <= hi, else 0   (the STE, clipped)
//   fq_absmax:    m[c] = max over rows of |w[row, c]|                      (w [rows, c], c innermost)
//   fq_channels:  y = clamp(roundEven(w / s_c), -127, 127) * s_c, s_c = m[c] / 127 (1 where m = 0)
// The channel version's gradient is the identity (its range is the tensor's own: nothing clips).

struct FqParams { n: u32, scale: f32, zp: f32, lo: f32, hi: f32 }
@group(0) @binding(0) var<storage, read> fq_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> fq_y: array<f32>;
@group(0) @binding(2) var<uniform> fp: FqParams;

@compute @workgroup_size(64)
fn fq_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= fp.n) { return; }
  let q = clamp(round(fq_x[i] / fp.scale) + fp.zp, fp.lo, fp.hi);
  fq_y[i] = (q - fp.zp) * fp.scale;
}

struct FqBackParams { n: u32, scale: f32, zp: f32, lo: f32, hi: f32 }
@group(0) @binding(0) var<storage, read> fb_x: array<f32>;
@group(0) @binding(1) var<storage, read> fb_g: array<f32>;
@group(0) @binding(2) var<storage, read_write> fb_dx: array<f32>;
@group(0) @binding(3) var<uniform> bp: FqBackParams;

@compute @workgroup_size(64)
fn fq_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= bp.n) { return; }
  let q = round(fb_x[i] / bp.scale) + bp.zp;
  fb_dx[i] = select(0.0, fb_g[i], q >= bp.lo && q <= bp.hi);
}

struct AbsmaxParams { rows: u32, c: u32 }
@group(0) @binding(0) var<storage, read> am_w: array<f32>;
@group(0) @binding(1) var<storage, read_write> am_m: array<f32>;
@group(0) @binding(2) var<uniform> ap: AbsmaxParams;

@compute @workgroup_size(64)
fn fq_absmax(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (c >= ap.c) { return; }
  var m = 0.0;
  for (var r = 0u; r < ap.rows; r++) { m = max(m, abs(am_w[r * ap.c + c])); }
  am_m[c] = m;
}

struct FqChannelParams { n: u32, c: u32 }
@group(0) @binding(0) var<storage, read> fc_w: array<f32>;
@group(0) @binding(1) var<storage, read> fc_m: array<f32>;
@group(0) @binding(2) var<storage, read_write> fc_y: array<f32>;
@group(0) @binding(3) var<uniform> cp: FqChannelParams;

@compute @workgroup_size(64)
fn fq_channels(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= cp.n) { return; }
  let m = fc_m[i % cp.c];
  let s = select(1.0, m / 127.0, m > 0.0);
  fc_y[i] = clamp(round(fc_w[i] / s), -127.0, 127.0) * s;
}
