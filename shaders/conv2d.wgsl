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

// A dx thread's block: image n, input row iy, the block's first input column ix0 and first dy
// column oxb, channel group cb (both dx kernels number their threads this way).
struct DxBlock { n: u32, iy: u32, ix0: u32, oxb: i32, cb: u32 }
fn dx_block(t: u32) -> DxBlock {
  let cb = t % xp.cib;
  let bw = (t / xp.cib) % xp.iwb;
  let iy = (t / (xp.cib * xp.iwb)) % xp.h;
  let ix0 = bw * IWB;
  return DxBlock(t / (xp.cib * xp.iwb * xp.h), iy, ix0, i32(ix0 / S) + LO, cb);
}

// The dy row that window row ky of input row iy meets, or -1 (between strides, or outside dy).
fn dx_row(iy: u32, ky: u32) -> i32 {
  let ny = i32(iy) + PAD - i32(ky);
  if (ny < 0 || ny % i32(S) != 0 || u32(ny) / S >= xp.ho) { return -1; }
  return ny / i32(S);
}

@compute @workgroup_size(64)
fn backward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= xp.n * xp.h * xp.iwb * xp.cib) { return; }
  let b = dx_block(t);
  let n = b.n;
  let iy = b.iy;
  let ix0 = b.ix0;
  let oxb = b.oxb;
  let ci0 = b.cb * 4u;
  let last = xp.cin - 1u;
  let c1 = min(ci0 + 1u, last);
  let c2 = min(ci0 + 2u, last);
  let c3 = min(ci0 + 3u, last);
  var acc: array<vec4f, 16>;
  var ds: array<f32, 32>;
  for (var ky = 0u; ky < KH; ky++) {
    let oyr = dx_row(iy, ky);
    if (oyr < 0) { continue; }
    let row = (n * xp.ho + u32(oyr)) * xp.wo;
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

// dx with output channels in fours (Cout % 4 == 0): dy and the weights read as vec4s along co, so
// a thread's loads feed four times the multiply-adds of backward_x's scalar ones (the loads are
// what costs on CPU adapters). One thread = IWB input columns x CI input channels (CI <= 4, an
// override constant: 3 for the RGB stem, so no lane loads a channel that does not exist); cib in
// the uniforms counts the channel groups, the last one clamped where CI does not divide Cin.
override CI: u32 = 4u;

// Its uniforms are backward_x's `xp` (same binding, same struct).
@group(0) @binding(0) var<storage, read> dyv: array<vec4f>;
@group(0) @binding(1) var<storage, read> dwtv: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dxo: array<f32>;

@compute @workgroup_size(64)
fn backward_x4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= xp.n * xp.h * xp.iwb * xp.cib) { return; }
  let b = dx_block(t);
  let n = b.n;
  let iy = b.iy;
  let ix0 = b.ix0;
  let oxb = b.oxb;
  let ci0 = b.cb * CI;
  let cov = xp.cout / 4u;
  var acc: array<vec4f, 16>;
  var ds: array<vec4f, 32>;
  for (var ky = 0u; ky < KH; ky++) {
    let oyr = dx_row(iy, ky);
    if (oyr < 0) { continue; }
    let row = (n * xp.ho + u32(oyr)) * xp.wo;
    for (var c4 = 0u; c4 < cov; c4++) {
      for (var q = 0u; q < DT; q++) {
        let ox = oxb + i32(q);
        let okx = ox >= 0 && ox < i32(xp.wo);
        ds[q] = select(vec4f(0.0), dyv[(row + u32(clamp(ox, 0, i32(xp.wo) - 1))) * cov + c4], okx);
      }
      for (var kx = 0u; kx < KW; kx++) {
        var wv: array<vec4f, 4>;
        for (var c = 0u; c < CI; c++) {
          wv[c] = dwtv[((ky * KW + kx) * xp.cin + min(ci0 + c, xp.cin - 1u)) * cov + c4];
        }
        for (var j = 0u; j < IWB; j++) {
          let d = i32(j) + PAD - i32(kx) - LO * i32(S);
          if (d >= 0 && d % i32(S) == 0) {
            let dv = ds[u32(d) / S];
            var a = acc[j];
            a.x += dot(dv, wv[0]);
            if (CI > 1u) { a.y += dot(dv, wv[1]); }
            if (CI > 2u) { a.z += dot(dv, wv[2]); }
            if (CI > 3u) { a.w += dot(dv, wv[3]); }
            acc[j] = a;
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
    if (ci0 < xp.cin) { dxo[o] = a.x; }
    if (CI > 1u && ci0 + 1u < xp.cin) { dxo[o + 1u] = a.y; }
    if (CI > 2u && ci0 + 2u < xp.cin) { dxo[o + 2u] = a.z; }
    if (CI > 3u && ci0 + 3u < xp.cin) { dxo[o + 3u] = a.w; }
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

// ---------------------------------------------------------------------------------------------
// Few input channels (the stem: 3 -> 16 at stride 2). Conditions: W*CIN % 4 == 0 (every input row
// starts on a vec4), Cout % 4 == 0, S*OWB*CIN % 4 == 0 (consecutive blocks of OWB output columns
// start their input segments at the same offset in a vec4). A block's input row segment, the
// ((OWB-1)*S + KW)*CIN floats its outputs need, is read as NV aligned vec4s starting XL floats
// before it, and each value is picked from them with a compile-time component (after unrolling)
// instead of one bounds-checked load per value; values left or right of the image select zero.
// Consecutive blocks' segments overlap by OV vec4s (NV - S*OWB*CIN/4), which the thread keeps
// in registers (SLIDE) instead of loading them again.
// Small per-thread tiles (OWB = 2 columns x 8 channels) beat larger ones here: fewer live values.
override CIN: u32 = 3u;
override CG: u32 = 2u;
override XL: u32 = 1u;
override NV: u32 = 4u;
override SLIDE: bool = false;
override OV: u32 = 1u;

// forward_rows: one thread = 4*CG output channels of one whole output row, OWB columns per step.
// Its KH*KW*CIN*CG weight vec4s are loaded once into `wr` and serve the whole row.
struct RowParams { n: u32, h: u32, w: u32, ho: u32, wo: u32, cout: u32, cob: u32 }

@group(0) @binding(0) var<storage, read> xr4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> yr4: array<vec4f>;
@group(0) @binding(3) var<uniform> rp: RowParams;

@compute @workgroup_size(64)
fn forward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= rp.n * rp.ho * rp.cob) { return; }
  let cb = t % rp.cob;
  let r = t / rp.cob;
  let oy = r % rp.ho;
  let n = r / rp.ho;
  let cog = rp.cout / 4u;
  let cg0 = cb * CG;
  var wr: array<vec4f, 128>;
  for (var tap = 0u; tap < KH * KW * CIN; tap++) {
    for (var g = 0u; g < CG; g++) {
      wr[tap * CG + g] = wt4[tap * cog + min(cg0 + g, cog - 1u)];
    }
  }
  var ec: array<EpiCoef, 4>;
  for (var g = 0u; g < CG; g++) { ec[g] = epi_coef(min(cg0 + g, cog - 1u)); }
  let rowv = rp.w * CIN / 4u;
  var keep: array<vec4f, 16>;
  for (var b = 0u; b < (rp.wo + OWB - 1u) / OWB; b++) {
    let ox0 = b * OWB;
    let px0 = i32(ox0 * S) - PAD;
    let v0 = i32(ox0 * S * CIN / 4u) - i32((u32(PAD) * CIN + XL) / 4u);
    // Zeroed explicitly: a `var` declared in a loop body was seen keeping the previous
    // iteration's values on lavapipe.
    var acc: array<vec4f, 16>;
    for (var i = 0u; i < OWB * CG; i++) { acc[i] = vec4f(0.0); }
    for (var ky = 0u; ky < KH; ky++) {
      let iy = i32(oy * S + ky) - PAD;
      if (iy < 0 || iy >= i32(rp.h)) { continue; }
      let rb = i32((n * rp.h + u32(iy)) * rowv) + v0;
      var xv: array<vec4f, 8>;
      if (SLIDE && b > 0u) {
        for (var v = 0u; v < OV; v++) { xv[v] = keep[ky * OV + v]; }
        for (var v = OV; v < NV; v++) { xv[v] = xr4[u32(max(rb + i32(v), 0))]; }
      } else {
        for (var v = 0u; v < NV; v++) { xv[v] = xr4[u32(max(rb + i32(v), 0))]; }
      }
      for (var v = 0u; v < OV; v++) { keep[ky * OV + v] = xv[NV - OV + v]; }
      for (var kx = 0u; kx < KW; kx++) {
        for (var ci = 0u; ci < CIN; ci++) {
          let tap = (ky * KW + kx) * CIN + ci;
          for (var j = 0u; j < OWB; j++) {
            let q = (j * S + kx) * CIN + ci + XL;
            let px = px0 + i32(j * S + kx);
            let xval = select(0.0, xv[q / 4u][q % 4u], px >= 0 && px < i32(rp.w));
            for (var g = 0u; g < CG; g++) {
              acc[j * CG + g] += xval * wr[tap * CG + g];
            }
          }
        }
      }
    }
    for (var j = 0u; j < OWB; j++) {
      let ox = ox0 + j;
      if (ox >= rp.wo) { break; }
      let ob = ((n * rp.ho + oy) * rp.wo + ox) * cog;
      for (var g = 0u; g < CG; g++) {
        let cg = cg0 + g;
        // epi: the inference epilogue (kernels/epilogue.ts), the identity in training.
        if (cg < cog) { yr4[ob + cg] = epi(acc[j * CG + g], ec[g], ob + cg); }
      }
    }
  }
}

// backward_w_rows: first stage of the weight gradient. One thread = (split, ky, 4*CG output
// channels) and every kx, ci; it walks its chunk of output rows OWB columns at a time, dy read as
// vec4s. Output [splits, KH, KW, CIN, Cout] as vec4s; reduceMid sums the splits.
struct DwRowParams { n: u32, h: u32, w: u32, ho: u32, wo: u32, cout: u32, cob: u32, chunk: u32, splits: u32, kh: u32 }

@group(0) @binding(0) var<storage, read> gxr4: array<vec4f>;
@group(0) @binding(1) var<storage, read> gdyr4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> partr: array<vec4f>;
@group(0) @binding(3) var<uniform> dp: DwRowParams;

@compute @workgroup_size(64)
fn backward_w_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= dp.splits * dp.kh * dp.cob) { return; }
  let cb = t % dp.cob;
  let ky = (t / dp.cob) % dp.kh;
  let s = t / (dp.cob * dp.kh);
  let cog = dp.cout / 4u;
  let cg0 = cb * CG;
  let rowv = dp.w * CIN / 4u;
  let r0 = s * dp.chunk;
  let r1 = min(r0 + dp.chunk, dp.n * dp.ho);
  let nb = (dp.wo + OWB - 1u) / OWB;
  var acc: array<vec4f, 64>;
  for (var i = 0u; i < KW * CIN * CG; i++) { acc[i] = vec4f(0.0); }
  for (var r = r0; r < r1; r++) {
    let n = r / dp.ho;
    let oy = r % dp.ho;
    let iy = i32(oy * S + ky) - PAD;
    if (iy < 0 || iy >= i32(dp.h)) { continue; }
    let rb0 = i32((n * dp.h + u32(iy)) * rowv);
    var keep: array<vec4f, 8>;
    for (var b = 0u; b < nb; b++) {
      let ox0 = b * OWB;
      let px0 = i32(ox0 * S) - PAD;
      let rb = rb0 + i32(ox0 * S * CIN / 4u) - i32((u32(PAD) * CIN + XL) / 4u);
      var dv: array<vec4f, 16>;
      for (var j = 0u; j < OWB; j++) {
        for (var g = 0u; g < CG; g++) {
          let d = gdyr4[(r * dp.wo + min(ox0 + j, dp.wo - 1u)) * cog + min(cg0 + g, cog - 1u)];
          dv[j * CG + g] = select(vec4f(0.0), d, ox0 + j < dp.wo);
        }
      }
      var xv: array<vec4f, 8>;
      if (SLIDE && b > 0u) {
        for (var v = 0u; v < OV; v++) { xv[v] = keep[v]; }
        for (var v = OV; v < NV; v++) { xv[v] = gxr4[u32(max(rb + i32(v), 0))]; }
      } else {
        for (var v = 0u; v < NV; v++) { xv[v] = gxr4[u32(max(rb + i32(v), 0))]; }
      }
      for (var v = 0u; v < OV; v++) { keep[v] = xv[NV - OV + v]; }
      for (var kx = 0u; kx < KW; kx++) {
        for (var ci = 0u; ci < CIN; ci++) {
          let tap = kx * CIN + ci;
          for (var j = 0u; j < OWB; j++) {
            let q = (j * S + kx) * CIN + ci + XL;
            let px = px0 + i32(j * S + kx);
            let xval = select(0.0, xv[q / 4u][q % 4u], px >= 0 && px < i32(dp.w));
            for (var g = 0u; g < CG; g++) {
              acc[tap * CG + g] += xval * dv[j * CG + g];
            }
          }
        }
      }
    }
  }
  for (var kx = 0u; kx < KW; kx++) {
    for (var ci = 0u; ci < CIN; ci++) {
      let tap = kx * CIN + ci;
      let o = (((s * KH + ky) * KW + kx) * CIN + ci) * cog + cg0;
      for (var g = 0u; g < CG; g++) {
        if (cg0 + g < cog) { partr[o + g] = acc[tap * CG + g]; }
      }
    }
  }
}
