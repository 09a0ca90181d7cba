// Depthwise 2-D convolution, forward and both gradients.
// Layouts: x [N,H,W,C] (NHWC), w [K,K,C], y / dy [N,Ho,Wo,C],
// y[n,oy,ox,c] = sum_{ky,kx} x[n, oy*S-pad+ky, ox*S-pad+kx, c] * w[ky,kx,c]; taps outside the
// input read zero.
// Window K, stride S and the per-thread block sizes are override constants: each shape family
// compiles its own pipeline, so the tap loops unroll and the private caches stay in registers
// (buffer loads are the dominant cost on CPU adapters). Channels are the fastest thread index,
// so neighbouring threads read neighbouring addresses; any channel count works.
// Grids are 2-D (gridFor): the linear id is rebuilt from workgroup_id and num_workgroups.

override K: u32;
override S: u32;

// ---------------------------------------------------------------------------------------------
// forward: one thread = OWB adjacent output columns of one channel; per ky the input row segment
// they share is loaded once ((OWB-1)*S+K loads instead of OWB*K).
override OWB: u32;

struct FwdParams { n: u32, h: u32, w: u32, c: u32, ho: u32, wo: u32, pad: i32, wob: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> fp: FwdParams;

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= fp.n * fp.ho * fp.wob * fp.c) { return; }
  let c = t % fp.c;
  let bw = (t / fp.c) % fp.wob;
  let oy = (t / (fp.c * fp.wob)) % fp.ho;
  let n = t / (fp.c * fp.wob * fp.ho);
  let ox0 = bw * OWB;
  let ix0 = i32(ox0 * S) - fp.pad;
  let span = (OWB - 1u) * S + K;
  var acc: array<f32, 16>;
  var xs: array<f32, 48>;
  for (var ky = 0u; ky < K; ky++) {
    let iy = i32(oy * S + ky) - fp.pad;
    if (iy < 0 || iy >= i32(fp.h)) { continue; }
    let row = (n * fp.h + u32(iy)) * fp.w;
    for (var q = 0u; q < span; q++) {
      let ix = ix0 + i32(q);
      var v = 0.0;
      if (ix >= 0 && ix < i32(fp.w)) { v = x[(row + u32(ix)) * fp.c + c]; }
      xs[q] = v;
    }
    for (var kx = 0u; kx < K; kx++) {
      let wv = wt[(ky * K + kx) * fp.c + c];
      for (var j = 0u; j < OWB; j++) {
        acc[j] += xs[j * S + kx] * wv;
      }
    }
  }
  for (var j = 0u; j < OWB; j++) {
    let ox = ox0 + j;
    if (ox >= fp.wo) { break; }
    y[((n * fp.ho + oy) * fp.wo + ox) * fp.c + c] = acc[j];
  }
}

// ---------------------------------------------------------------------------------------------
// dx: one thread = IWB adjacent input columns of one channel.
// dx[n,iy,ix,c] = sum over taps with oy*S = iy+PAD-ky, ox*S = ix+PAD-kx of dy[n,oy,ox,c] * w[ky,kx,c].
// IWB is a multiple of S and blocks start at multiples of IWB, so which (column j, tap kx) pairs
// meet an output column, and its cached index q = (j + PAD - kx - LO*S) / S, are compile-time
// facts. The host sets LO = ceil((PAD-K+1)/S) and DT, the number of dy columns a block touches.
override IWB: u32;
override PAD: i32;
override LO: i32;
override DT: u32;

struct DxParams { n: u32, h: u32, w: u32, c: u32, ho: u32, wo: u32, iwb: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> dwt: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> xp: DxParams;

@compute @workgroup_size(64)
fn backward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= xp.n * xp.h * xp.iwb * xp.c) { return; }
  let c = t % xp.c;
  let bw = (t / xp.c) % xp.iwb;
  let iy = (t / (xp.c * xp.iwb)) % xp.h;
  let n = t / (xp.c * xp.iwb * xp.h);
  let ix0 = bw * IWB;
  let oxb = i32(ix0 / S) + LO;
  var acc: array<f32, 16>;
  var ds: array<f32, 48>;
  for (var ky = 0u; ky < K; ky++) {
    let ny = i32(iy) + PAD - i32(ky);
    if (ny < 0 || ny % i32(S) != 0) { continue; }
    let oy = u32(ny) / S;
    if (oy >= xp.ho) { continue; }
    let row = (n * xp.ho + oy) * xp.wo;
    for (var q = 0u; q < DT; q++) {
      let ox = oxb + i32(q);
      var v = 0.0;
      if (ox >= 0 && ox < i32(xp.wo)) { v = dy[(row + u32(ox)) * xp.c + c]; }
      ds[q] = v;
    }
    for (var kx = 0u; kx < K; kx++) {
      let wv = dwt[(ky * K + kx) * xp.c + c];
      for (var j = 0u; j < IWB; j++) {
        let d = i32(j) + PAD - i32(kx) - LO * i32(S);
        if (d >= 0 && d % i32(S) == 0) {
          acc[j] += ds[u32(d) / S] * wv;
        }
      }
    }
  }
  for (var j = 0u; j < IWB; j++) {
    let ix = ix0 + j;
    if (ix >= xp.w) { break; }
    dx[((n * xp.h + iy) * xp.w + ix) * xp.c + c] = acc[j];
  }
}

// ---------------------------------------------------------------------------------------------
// dw, first stage: part[s,ky,kx,c] = sum over output rows r = n*Ho+oy in chunk s and all ox of
// x[n, oy*S-pad+ky, ox*S-pad+kx, c] * dy[n,oy,ox,c]. One thread = (split, ky, c) and every kx:
// along a row the K input values slide by S per output column, so only S new values are loaded
// per step. A second pass (reduceMid) sums the splits.

struct DwParams { n: u32, h: u32, w: u32, c: u32, ho: u32, wo: u32, pad: i32, chunk: u32, splits: u32, k: u32 }

@group(0) @binding(0) var<storage, read> gx: array<f32>;
@group(0) @binding(1) var<storage, read> gdy: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> wp: DwParams;

@compute @workgroup_size(64)
fn backward_w(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= wp.splits * wp.k * wp.c) { return; }
  let c = t % wp.c;
  let ky = (t / wp.c) % K;
  let s = t / (wp.c * K);
  let r0 = s * wp.chunk;
  let r1 = min(r0 + wp.chunk, wp.n * wp.ho);
  var acc: array<f32, 16>;
  var win: array<f32, 16>;
  for (var r = r0; r < r1; r++) {
    let n = r / wp.ho;
    let oy = r % wp.ho;
    let iy = i32(oy * S + ky) - wp.pad;
    if (iy < 0 || iy >= i32(wp.h)) { continue; }
    let row = (n * wp.h + u32(iy)) * wp.w;
    for (var ox = 0u; ox < wp.wo; ox++) {
      let ixb = i32(ox * S) - wp.pad;
      for (var kx = 0u; kx < K; kx++) {
        if (ox > 0u && kx + S < K) {
          win[kx] = win[kx + S];
        } else {
          let ix = ixb + i32(kx);
          var v = 0.0;
          if (ix >= 0 && ix < i32(wp.w)) { v = gx[(row + u32(ix)) * wp.c + c]; }
          win[kx] = v;
        }
      }
      let g = gdy[(r * wp.wo + ox) * wp.c + c];
      for (var kx = 0u; kx < K; kx++) {
        acc[kx] += win[kx] * g;
      }
    }
  }
  for (var kx = 0u; kx < K; kx++) {
    part[((s * K + ky) * K + kx) * wp.c + c] = acc[kx];
  }
}
