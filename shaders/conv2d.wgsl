// Dense 2-D convolution (cross-correlation, as PyTorch's conv2d), forward and both gradients.
// Layouts: x [N,H,W,Cin] (NHWC), w [KH,KW,Cin,Cout] (HWIO), y / dy [N,Ho,Wo,Cout],
// y[n,oy,ox,co] = sum_{ky,kx,ci} x[n, oy*S-pad+ky, ox*S-pad+kx, ci] * w[ky,kx,ci,co]; taps outside
// the input read zero.
// Window (KH, KW), stride S and the per-thread block sizes are override constants: each shape
// family compiles its own pipeline, so the small tap loops unroll and the private row caches and
// accumulators stay in registers (buffer loads are the dominant cost on CPU adapters).
// Threads compute blocks of 4 channels (vec4 accumulators); lanes past the last channel read a
// valid clamped index and are never written, so any channel count works.
// Grids are 2-D (gridFor): the linear id is rebuilt from workgroup_id and num_workgroups.

override KH: u32;
override KW: u32;
override S: u32;

// ---------------------------------------------------------------------------------------------
// forward: one thread = OWB adjacent output columns x 4*COV output channels of one output row.
// For each (ky, ci) the input row segment the OWB outputs need is loaded once into xs, and each
// weight vec4 serves OWB outputs.
override OWB: u32;
override COV: u32;
// Cout % 4 == 0: weights are read through `wt4`, the same buffer as vec4s (one bounds-checked load
// instead of four; the host binds the tensor to both names). Otherwise `wt`, clamped per channel.
override W4: bool = false;

struct FwdParams { n: u32, h: u32, w: u32, cin: u32, ho: u32, wo: u32, cout: u32, pad: i32, wob: u32, cob: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> fp: FwdParams;
@group(0) @binding(4) var<storage, read> wt4: array<vec4f>;

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= fp.n * fp.ho * fp.wob * fp.cob) { return; }
  let cb = t % fp.cob;
  let bw = (t / fp.cob) % fp.wob;
  let oy = (t / (fp.cob * fp.wob)) % fp.ho;
  let n = t / (fp.cob * fp.wob * fp.ho);
  let co0 = cb * 4u * COV;
  let last = fp.cout - 1u;
  let ox0 = bw * OWB;
  let ix0 = i32(ox0 * S) - fp.pad;
  let span = (OWB - 1u) * S + KW;
  var acc: array<vec4f, 16>;
  var xs: array<f32, 32>;
  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * S + ky) - fp.pad;
    if (iy < 0 || iy >= i32(fp.h)) { continue; }
    let row = (n * fp.h + u32(iy)) * fp.w;
    for (var ci = 0u; ci < fp.cin; ci++) {
      for (var q = 0u; q < span; q++) {
        let ix = ix0 + i32(q);
        var v = 0.0;
        if (ix >= 0 && ix < i32(fp.w)) { v = x[(row + u32(ix)) * fp.cin + ci]; }
        xs[q] = v;
      }
      for (var kx = 0u; kx < KW; kx++) {
        let wb = ((ky * KW + kx) * fp.cin + ci) * fp.cout;
        for (var g = 0u; g < COV; g++) {
          let cg = co0 + 4u * g;
          var wv: vec4f;
          if (W4) {
            wv = wt4[(wb + min(cg, last)) / 4u];
          } else {
            wv = vec4f(wt[wb + min(cg, last)], wt[wb + min(cg + 1u, last)], wt[wb + min(cg + 2u, last)], wt[wb + min(cg + 3u, last)]);
          }
          for (var j = 0u; j < OWB; j++) {
            acc[j * COV + g] += xs[j * S + kx] * wv;
          }
        }
      }
    }
  }
  for (var j = 0u; j < OWB; j++) {
    let ox = ox0 + j;
    if (ox >= fp.wo) { break; }
    let ob = ((n * fp.ho + oy) * fp.wo + ox) * fp.cout;
    for (var g = 0u; g < COV; g++) {
      let cg = co0 + 4u * g;
      // epi: the inference epilogue (kernels/epilogue.ts; the host uses it only when cout % 4 == 0),
      // the identity in training's kernels.
      let a = epi(acc[j * COV + g], epi_coef(cg / 4u), (ob + cg) / 4u);
      if (cg < fp.cout) { y[ob + cg] = a.x; }
      if (cg + 1u < fp.cout) { y[ob + cg + 1u] = a.y; }
      if (cg + 2u < fp.cout) { y[ob + cg + 2u] = a.z; }
      if (cg + 3u < fp.cout) { y[ob + cg + 3u] = a.w; }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// dx: one thread = IWB adjacent input columns x 4 input channels of one input row.
// dx[n,iy,ix,ci] = sum over taps with oy*S = iy+PAD-ky, ox*S = ix+PAD-kx of dy[n,oy,ox,co] * w[ky,kx,ci,co].
// IWB is a multiple of S and a block starts at a multiple of IWB, so which (column j, tap kx)
// pairs meet an output column, and which one (cached index), is known at compile time:
// ox = ix0/S + LO + q with q = (j + PAD - kx - LO*S) / S. The host sets LO = ceil((PAD-KW+1)/S)
// and DT, the number of dy columns a block touches.
override IWB: u32;
override PAD: i32;
override LO: i32;
override DT: u32;

struct DxParams { n: u32, h: u32, w: u32, cin: u32, ho: u32, wo: u32, cout: u32, iwb: u32, cib: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> dwt: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> xp: DxParams;

@compute @workgroup_size(64)
fn backward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= xp.n * xp.h * xp.iwb * xp.cib) { return; }
  let cb = t % xp.cib;
  let bw = (t / xp.cib) % xp.iwb;
  let iy = (t / (xp.cib * xp.iwb)) % xp.h;
  let n = t / (xp.cib * xp.iwb * xp.h);
  let ci0 = cb * 4u;
  let last = xp.cin - 1u;
  let c1 = min(ci0 + 1u, last);
  let c2 = min(ci0 + 2u, last);
  let c3 = min(ci0 + 3u, last);
  let ix0 = bw * IWB;
  let oxb = i32(ix0 / S) + LO;
  var acc: array<vec4f, 16>;
  var ds: array<f32, 32>;
  for (var ky = 0u; ky < KH; ky++) {
    let ny = i32(iy) + PAD - i32(ky);
    if (ny < 0 || ny % i32(S) != 0) { continue; }
    let oy = u32(ny) / S;
    if (oy >= xp.ho) { continue; }
    let row = (n * xp.ho + oy) * xp.wo;
    for (var co = 0u; co < xp.cout; co++) {
      for (var q = 0u; q < DT; q++) {
        let ox = oxb + i32(q);
        var v = 0.0;
        if (ox >= 0 && ox < i32(xp.wo)) { v = dy[(row + u32(ox)) * xp.cout + co]; }
        ds[q] = v;
      }
      for (var kx = 0u; kx < KW; kx++) {
        let wb = (ky * KW + kx) * xp.cin * xp.cout + co;
        let wv = vec4f(dwt[wb + ci0 * xp.cout], dwt[wb + c1 * xp.cout], dwt[wb + c2 * xp.cout], dwt[wb + c3 * xp.cout]);
        for (var j = 0u; j < IWB; j++) {
          let d = i32(j) + PAD - i32(kx) - LO * i32(S);
          if (d >= 0 && d % i32(S) == 0) {
            acc[j] += ds[u32(d) / S] * wv;
          }
        }
      }
    }
  }
  for (var j = 0u; j < IWB; j++) {
    let ix = ix0 + j;
    if (ix >= xp.w) { break; }
    let o = ((n * xp.h + iy) * xp.w + ix) * xp.cin + ci0;
    let a = acc[j];
    dx[o] = a.x;
    if (ci0 + 1u < xp.cin) { dx[o + 1u] = a.y; }
    if (ci0 + 2u < xp.cin) { dx[o + 2u] = a.z; }
    if (ci0 + 3u < xp.cin) { dx[o + 3u] = a.w; }
  }
}

// ---------------------------------------------------------------------------------------------
// dw, first stage: part[s,ky,kx,ci,co] = sum over output rows r = n*Ho+oy in chunk s and all ox of
// x[n, oy*S-pad+ky, ox*S-pad+kx, ci] * dy[n,oy,ox,co]. One thread = (split, ky, ci, 4 channels of
// co) and every kx: along a row the KW input values slide by S per output column, so only S new
// values are loaded per step. A second pass (reduceMid) sums the splits.

struct DwParams { n: u32, h: u32, w: u32, cin: u32, ho: u32, wo: u32, cout: u32, pad: i32, cob: u32, chunk: u32, splits: u32, kh: u32 }

@group(0) @binding(0) var<storage, read> gx: array<f32>;
@group(0) @binding(1) var<storage, read> gdy: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>;
@group(0) @binding(3) var<uniform> wp: DwParams;
// Cout % 4 == 0 (override W4): dy read as vec4s through `gdy4`, the same buffer as `gdy`.
@group(0) @binding(4) var<storage, read> gdy4: array<vec4f>;

@compute @workgroup_size(64)
fn backward_w(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= wp.splits * wp.kh * wp.cin * wp.cob) { return; }
  let cb = t % wp.cob;
  let ci = (t / wp.cob) % wp.cin;
  let ky = (t / (wp.cob * wp.cin)) % KH;
  let s = t / (wp.cob * wp.cin * KH);
  let co0 = cb * 4u;
  let last = wp.cout - 1u;
  let c1 = min(co0 + 1u, last);
  let c2 = min(co0 + 2u, last);
  let c3 = min(co0 + 3u, last);
  let r0 = s * wp.chunk;
  let r1 = min(r0 + wp.chunk, wp.n * wp.ho);
  var acc: array<vec4f, 16>;
  var win: array<f32, 16>;
  for (var r = r0; r < r1; r++) {
    let n = r / wp.ho;
    let oy = r % wp.ho;
    let iy = i32(oy * S + ky) - wp.pad;
    if (iy < 0 || iy >= i32(wp.h)) { continue; }
    let row = (n * wp.h + u32(iy)) * wp.w;
    for (var ox = 0u; ox < wp.wo; ox++) {
      let ixb = i32(ox * S) - wp.pad;
      for (var kx = 0u; kx < KW; kx++) {
        if (ox > 0u && kx + S < KW) {
          win[kx] = win[kx + S];
        } else {
          let ix = ixb + i32(kx);
          var v = 0.0;
          if (ix >= 0 && ix < i32(wp.w)) { v = gx[(row + u32(ix)) * wp.cin + ci]; }
          win[kx] = v;
        }
      }
      let o = (r * wp.wo + ox) * wp.cout;
      var g: vec4f;
      if (W4) {
        g = gdy4[(o + co0) / 4u];
      } else {
        g = vec4f(gdy[o + co0], gdy[o + c1], gdy[o + c2], gdy[o + c3]);
      }
      for (var kx = 0u; kx < KW; kx++) {
        acc[kx] += win[kx] * g;
      }
    }
  }
  for (var kx = 0u; kx < KW; kx++) {
    let o = (((s * KH + ky) * KW + kx) * wp.cin + ci) * wp.cout + co0;
    let a = acc[kx];
    part[o] = a.x;
    if (co0 + 1u < wp.cout) { part[o + 1u] = a.y; }
    if (co0 + 2u < wp.cout) { part[o + 2u] = a.z; }
    if (co0 + 3u < wp.cout) { part[o + 3u] = a.w; }
  }
}
