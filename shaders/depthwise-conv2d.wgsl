// Depthwise 2-D convolution, forward and both gradients.
// Layouts: x [N,H,W,C] (NHWC), w [K,K,C], y / dy [N,Ho,Wo,C],
// y[n,oy,ox,c] = sum_{ky,kx} x[n, oy*S-pad+ky, ox*S-pad+kx, c] * w[ky,kx,c]; taps outside the
// input read zero.
// Compiled twice (kernels/vec.ts puts the line first): `alias V = vec4f;` when C % 4 == 0 (one
// element = 4 adjacent channels), `alias V = f32;` otherwise; `cv` in the uniforms is C in
// elements of V. Window K, stride S and the per-thread block sizes are override constants: each
// shape family compiles its own pipeline, so the loops have constant trip counts and the private
// caches constant-per-iteration indices. On lavapipe every buffer load is a per-lane,
// bounds-checked load and costs as much as ~15 FMAs, so each thread computes a 2-D block of
// outputs: the input rows the block shares are loaded once, and out-of-range taps load a clamped
// (valid) address and select zero instead of branching.
// Grids are 2-D (gridFor): the linear id is rebuilt from workgroup_id and num_workgroups.

override K: u32;
override S: u32;

// ---------------------------------------------------------------------------------------------
// forward: one thread = OHB x OWB outputs (rows x columns) of one channel group. Input row r of
// the block ((OHB-1)*S+K rows) is loaded once, its (OWB-1)*S+K values serving every output row
// and column that reads it.
override OHB: u32;
override OWB: u32;

struct FwdParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32, pad: i32, wob: u32, hob: u32 }

@group(0) @binding(0) var<storage, read> x: array<V>;
@group(0) @binding(1) var<storage, read> wt: array<V>;
@group(0) @binding(2) var<storage, read_write> y: array<V>;
@group(0) @binding(3) var<uniform> fp: FwdParams;

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= fp.n * fp.hob * fp.wob * fp.cv) { return; }
  // Channel group fastest, then column block, row block, image: one division each, per thread.
  let q0 = t / fp.cv;
  let g = t - q0 * fp.cv;
  let q1 = q0 / fp.wob;
  let bx = q0 - q1 * fp.wob;
  let n = q1 / fp.hob;
  let by = q1 - n * fp.hob;
  let ox0 = bx * OWB;
  let oy0 = by * OHB;
  let ix0 = i32(ox0 * S) - fp.pad;
  let iy0 = i32(oy0 * S) - fp.pad;
  let hl = i32(fp.h) - 1;
  let wl = i32(fp.w) - 1;
  // Windows up to 5x5 keep their weights in registers; larger ones read them where used.
  var wr: array<V, 25>;
  for (var i = 0u; i < min(K * K, 25u); i++) { wr[i] = wt[i * fp.cv + g]; }
  var acc: array<V, 32>;
  for (var i = 0u; i < OHB * OWB; i++) { acc[i] = V(0.0); }
  for (var r = 0u; r < (OHB - 1u) * S + K; r++) {
    let iy = iy0 + i32(r);
    let rowok = iy >= 0 && iy <= hl;
    let rowb = (n * fp.h + u32(clamp(iy, 0, hl))) * fp.w;
    var xs: array<V, 24>;
    for (var q = 0u; q < (OWB - 1u) * S + K; q++) {
      let ix = ix0 + i32(q);
      xs[q] = select(V(0.0), x[(rowb + u32(clamp(ix, 0, wl))) * fp.cv + g], rowok && ix >= 0 && ix <= wl);
    }
    for (var j = 0u; j < OHB; j++) {
      let ky = i32(r) - i32(j * S);
      if (ky >= 0 && ky < i32(K)) {
        for (var i = 0u; i < OWB; i++) {
          for (var kx = 0u; kx < K; kx++) {
            let wi = u32(ky) * K + kx;
            var wv: V;
            if (K <= 5u) { wv = wr[min(wi, 24u)]; } else { wv = wt[wi * fp.cv + g]; }
            acc[j * OWB + i] = fma(xs[i * S + kx], wv, acc[j * OWB + i]);
          }
        }
      }
    }
  }
  // epi: the inference epilogue (kernels/epilogue.ts), the identity in training's kernels.
  let ec = epi_coef(g);
  for (var j = 0u; j < OHB; j++) {
    let oy = oy0 + j;
    for (var i = 0u; i < OWB; i++) {
      let ox = ox0 + i;
      let o = ((n * fp.ho + oy) * fp.wo + ox) * fp.cv + g;
      if (oy < fp.ho && ox < fp.wo) { y[o] = epi(acc[j * OWB + i], ec, o); }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// dx: one thread = IHB x IWB input positions (rows x columns) of one channel group.
// dx[n,iy,ix,c] = sum over taps with oy*S = iy+PAD-ky, ox*S = ix+PAD-kx of dy[n,oy,ox,c] * w[ky,kx,c].
// IHB and IWB are multiples of S and blocks start at multiples of them, so which dy rows and
// columns a block reads, and which tap joins input position a to cached dy row qy
// (ky = a + PAD - (LO + qy) * S, the same for columns), are compile-time facts. The host sets
// LO = ceil((PAD-K+1)/S) and DT, the number of dy rows (and columns) a block touches.
override IHB: u32;
override IWB: u32;
override PAD: i32;
override LO: i32;
override DT: u32;

struct DxParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32, iwb: u32, ihb: u32 }

@group(0) @binding(0) var<storage, read> dy: array<V>;
@group(0) @binding(1) var<storage, read> dwt: array<V>;
@group(0) @binding(2) var<storage, read_write> dx: array<V>;
@group(0) @binding(3) var<uniform> xp: DxParams;

@compute @workgroup_size(64)
fn backward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= xp.n * xp.ihb * xp.iwb * xp.cv) { return; }
  let q0 = t / xp.cv;
  let g = t - q0 * xp.cv;
  let q1 = q0 / xp.iwb;
  let bx = q0 - q1 * xp.iwb;
  let n = q1 / xp.ihb;
  let by = q1 - n * xp.ihb;
  let ix0 = bx * IWB;
  let iy0 = by * IHB;
  let oxb = i32(ix0 / S) + LO;
  let oyb = i32(iy0 / S) + LO;
  let hl = i32(xp.ho) - 1;
  let wl = i32(xp.wo) - 1;
  var wr: array<V, 25>;
  for (var i = 0u; i < min(K * K, 25u); i++) { wr[i] = dwt[i * xp.cv + g]; }
  var acc: array<V, 32>;
  for (var i = 0u; i < IHB * IWB; i++) { acc[i] = V(0.0); }
  for (var qy = 0u; qy < DT; qy++) {
    let oy = oyb + i32(qy);
    let rowok = oy >= 0 && oy <= hl;
    let rowb = (n * xp.ho + u32(clamp(oy, 0, hl))) * xp.wo;
    var ds: array<V, 16>;
    for (var qx = 0u; qx < DT; qx++) {
      let ox = oxb + i32(qx);
      ds[qx] = select(V(0.0), dy[(rowb + u32(clamp(ox, 0, wl))) * xp.cv + g], rowok && ox >= 0 && ox <= wl);
    }
    for (var a = 0u; a < IHB; a++) {
      let ky = i32(a) + PAD - (LO + i32(qy)) * i32(S);
      if (ky >= 0 && ky < i32(K)) {
        for (var b = 0u; b < IWB; b++) {
          for (var qx = 0u; qx < DT; qx++) {
            let kx = i32(b) + PAD - (LO + i32(qx)) * i32(S);
            if (kx >= 0 && kx < i32(K)) {
              let wi = u32(ky) * K + u32(kx);
              var wv: V;
              if (K <= 5u) { wv = wr[min(wi, 24u)]; } else { wv = dwt[wi * xp.cv + g]; }
              acc[a * IWB + b] = fma(ds[qx], wv, acc[a * IWB + b]);
            }
          }
        }
      }
    }
  }
  for (var a = 0u; a < IHB; a++) {
    let iy = iy0 + a;
    for (var b = 0u; b < IWB; b++) {
      let ix = ix0 + b;
      if (iy < xp.h && ix < xp.w) { dx[((n * xp.h + iy) * xp.w + ix) * xp.cv + g] = acc[a * IWB + b]; }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// dw, first stage: part[s,ky,kx,c] = sum over output rows r = n*Ho+oy in chunk s and all ox of
// x[n, oy*S-pad+ky, ox*S-pad+kx, c] * dy[n,oy,ox,c]. One thread = (split, ky, c) and every kx:
// along a row the K input values slide by S per output column, so only S new values are loaded
// per step. A second pass (reduceMid) sums the splits.

struct DwParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32, pad: i32, chunk: u32, splits: u32, k: u32 }

@group(0) @binding(0) var<storage, read> gx: array<V>;
@group(0) @binding(1) var<storage, read> gdy: array<V>;
@group(0) @binding(2) var<storage, read_write> part: array<V>;
@group(0) @binding(3) var<uniform> wp: DwParams;

@compute @workgroup_size(64)
fn backward_w(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= wp.splits * wp.k * wp.cv) { return; }
  let q = t / wp.cv;
  let g = t - q * wp.cv;
  let s = q / K;
  let ky = q - s * K;
  let r0 = s * wp.chunk;
  let r1 = min(r0 + wp.chunk, wp.n * wp.ho);
  var acc: array<V, 16>;
  var win: array<V, 16>;
  // Output row r = n * Ho + oy, followed incrementally (no division per row).
  var n = r0 / wp.ho;
  var oy = r0 - n * wp.ho;
  for (var r = r0; r < r1; r++) {
    let iy = i32(oy * S + ky) - wp.pad;
    if (iy >= 0 && iy < i32(wp.h)) {
      let row = (n * wp.h + u32(iy)) * wp.w;
      for (var ox = 0u; ox < wp.wo; ox++) {
        let ixb = i32(ox * S) - wp.pad;
        for (var kx = 0u; kx < K; kx++) {
          if (ox > 0u && kx + S < K) {
            win[kx] = win[kx + S];
          } else {
            let ix = ixb + i32(kx);
            var v = V(0.0);
            if (ix >= 0 && ix < i32(wp.w)) { v = gx[(row + u32(ix)) * wp.cv + g]; }
            win[kx] = v;
          }
        }
        let gv = gdy[(r * wp.wo + ox) * wp.cv + g];
        for (var kx = 0u; kx < K; kx++) {
          acc[kx] = fma(win[kx], gv, acc[kx]);
        }
      }
    }
    oy++;
    if (oy == wp.ho) {
      oy = 0u;
      n++;
    }
  }
  for (var kx = 0u; kx < K; kx++) {
    part[((s * K + ky) * K + kx) * wp.cv + g] = acc[kx];
  }
}

// ---------------------------------------------------------------------------------------------
// dw, sliding form (windows up to 5x5): one thread = one channel group, a strip of OWB output
// columns and ALL K*K taps (K*K accumulators), walking down the rows of `ipt` images (or of a
// chunk of `rpt` steps of one image). Step m takes the S input rows m*S-pad+r (r < S), each loaded
// once as a segment of (OWB-1)*S+K values, and pairs row r with the D = ceil(K/S) dy rows m-d kept
// in a private cache (slot d: tap row ky = d*S+r): the dy cache shifts down one slot per step and
// loads only dy row m. Per output that is ~S*((OWB-1)*S+K)/OWB + 1 loads for K*K multiply-adds
// (backward_w: K*(S+1)). Steps run m0 <= m < mend (host: the steps whose x rows touch the image
// and whose dy rows exist); dy rows outside [0,Ho) and columns past Wo read zero.
// part[(sp*wob + bx), ky, kx, c]: the host sums the nsp*wob partials.

struct DwSlideParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32, pad: i32, wob: u32, nsp: u32, nch: u32, rpt: u32, ipt: u32, m0: u32, mend: u32 }

@group(0) @binding(0) var<storage, read> ux: array<V>;
@group(0) @binding(1) var<storage, read> udy: array<V>;
@group(0) @binding(2) var<storage, read_write> upart: array<V>;
@group(0) @binding(3) var<uniform> up: DwSlideParams;

@compute @workgroup_size(64)
fn backward_w_slide(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= up.nsp * up.wob * up.cv) { return; }
  let q0 = t / up.cv;
  let g = t - q0 * up.cv;
  let sp = q0 / up.wob;
  let bx = q0 - sp * up.wob;
  let grp = sp / up.nch;
  let ch = sp - grp * up.nch;
  let ox0 = bx * OWB;
  let ix0 = i32(ox0 * S) - up.pad;
  let D = (K + S - 1u) / S;            // dy rows paired with an input row
  let SP = (OWB - 1u) * S + K;         // input row segment
  let hl = i32(up.h) - 1;
  let wl = i32(up.w) - 1;
  let yl = i32(up.ho) - 1;
  let ma = up.m0 + ch * up.rpt;
  let mb = min(ma + up.rpt, up.mend);
  let na = grp * up.ipt;
  let nb = min(na + up.ipt, up.n);
  var acc: array<V, 25>;
  for (var i = 0u; i < K * K; i++) { acc[i] = V(0.0); }
  for (var n = na; n < nb; n++) {
    var dc: array<V, 16>;
    // Prime slots 0..D-2 with dy rows ma-1 .. ma-D+1 (the first step shifts them down one).
    for (var d = 1u; d < D; d++) {
      let oy = i32(ma) - i32(d);
      let rowok = oy >= 0 && oy <= yl;
      let rowb = (n * up.ho + u32(clamp(oy, 0, yl))) * up.wo;
      for (var i = 0u; i < OWB; i++) {
        let ox = ox0 + i;
        dc[(d - 1u) * OWB + i] = select(V(0.0), udy[(rowb + min(ox, up.wo - 1u)) * up.cv + g], rowok && ox < up.wo);
      }
    }
    for (var m = ma; m < mb; m++) {
      for (var e = 1u; e < D; e++) {
        let d = D - e;
        for (var i = 0u; i < OWB; i++) { dc[d * OWB + i] = dc[(d - 1u) * OWB + i]; }
      }
      let rowok = i32(m) <= yl;
      let rowb = (n * up.ho + min(m, up.ho - 1u)) * up.wo;
      for (var i = 0u; i < OWB; i++) {
        let ox = ox0 + i;
        dc[i] = select(V(0.0), udy[(rowb + min(ox, up.wo - 1u)) * up.cv + g], rowok && ox < up.wo);
      }
      for (var r = 0u; r < S; r++) {
        let iy = i32(m * S + r) - up.pad;
        let xok = iy >= 0 && iy <= hl;
        let xb = (n * up.h + u32(clamp(iy, 0, hl))) * up.w;
        var xs: array<V, 16>;
        for (var q = 0u; q < SP; q++) {
          let ix = ix0 + i32(q);
          xs[q] = select(V(0.0), ux[(xb + u32(clamp(ix, 0, wl))) * up.cv + g], xok && ix >= 0 && ix <= wl);
        }
        for (var d = 0u; d < D; d++) {
          let ky = d * S + r;
          if (ky < K) {
            for (var i = 0u; i < OWB; i++) {
              for (var kx = 0u; kx < K; kx++) {
                acc[ky * K + kx] = fma(xs[i * S + kx], dc[d * OWB + i], acc[ky * K + kx]);
              }
            }
          }
        }
      }
    }
  }
  let o = (sp * up.wob + bx) * K * K;
  for (var i = 0u; i < K * K; i++) { upart[(o + i) * up.cv + g] = acc[i]; }
}

// ---------------------------------------------------------------------------------------------
// Sliding-window forms (windows up to 5x5, K*K <= 25): one thread = a strip of OWB output
// columns (IWB input columns for dx) of one channel group, walking down `rpt` blocks of OHB
// (IHB) rows. The window's rows stay in a private array; each step shifts it up by the rows the
// block advances and loads only the new rows, so at OHB = 1 an output row costs
// S * ((OWB-1)*S+K) loads for OWB outputs, and the weights load once per strip. The host picks
// small strips (1 x 4 at stride 1, 1 x 1 at stride 2; src/ops/depthwise-conv2d.ts): on lavapipe
// wider ones, though they load less, measured slower (a 5x5 window past ~40 cached values 2x so).
// The window's size: `win` holds R x SP (DTR x DTC for dx) <= 64 values.

// FLIP reads the window rotated by 180 degrees: with stride 1 the input gradient is this forward
// over dy (pad K-1-pad), so dx at stride 1 runs forward_slide.
override FLIP: bool = false;

struct SlideParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32, pad: i32, wob: u32, nch: u32, rpt: u32 }

@group(0) @binding(0) var<storage, read> sx: array<V>;
@group(0) @binding(1) var<storage, read> swt: array<V>;
@group(0) @binding(2) var<storage, read_write> sy: array<V>;
@group(0) @binding(3) var<uniform> sp: SlideParams;

@compute @workgroup_size(64)
fn forward_slide(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= sp.n * sp.nch * sp.wob * sp.cv) { return; }
  let q0 = t / sp.cv;
  let g = t - q0 * sp.cv;
  let q1 = q0 / sp.wob;
  let bx = q0 - q1 * sp.wob;
  let n = q1 / sp.nch;
  let ch = q1 - n * sp.nch;
  let ox0 = bx * OWB;
  let ix0 = i32(ox0 * S) - sp.pad;
  let hl = i32(sp.h) - 1;
  let wl = i32(sp.w) - 1;
  let R = (OHB - 1u) * S + K;          // window rows
  let SP = (OWB - 1u) * S + K;         // window columns
  let NEW = min(OHB * S, R);           // rows entering per step
  let KEEP = R - NEW;
  var wr: array<V, 25>;
  for (var i = 0u; i < K * K; i++) { wr[i] = swt[select(i, K * K - 1u - i, FLIP) * sp.cv + g]; }
  var win: array<V, 64>;
  let oyA = ch * sp.rpt * OHB;
  // Prime the rows the first step shares with its predecessor's window.
  for (var r = 0u; r < KEEP; r++) {
    let iy = i32(oyA * S + r) - sp.pad;
    let rowok = iy >= 0 && iy <= hl;
    let rowb = (n * sp.h + u32(clamp(iy, 0, hl))) * sp.w;
    for (var q = 0u; q < SP; q++) {
      let ix = ix0 + i32(q);
      win[r * SP + q] = select(V(0.0), sx[(rowb + u32(clamp(ix, 0, wl))) * sp.cv + g], rowok && ix >= 0 && ix <= wl);
    }
  }
  let ec = epi_coef(g);
  for (var step = 0u; step < sp.rpt; step++) {
    let oy0 = oyA + step * OHB;
    if (oy0 >= sp.ho) { break; }
    let iyb = i32(oy0 * S) - sp.pad;
    for (var r = KEEP; r < R; r++) {
      let iy = iyb + i32(r);
      let rowok = iy >= 0 && iy <= hl;
      let rowb = (n * sp.h + u32(clamp(iy, 0, hl))) * sp.w;
      for (var q = 0u; q < SP; q++) {
        let ix = ix0 + i32(q);
        win[r * SP + q] = select(V(0.0), sx[(rowb + u32(clamp(ix, 0, wl))) * sp.cv + g], rowok && ix >= 0 && ix <= wl);
      }
    }
    for (var j = 0u; j < OHB; j++) {
      let oy = oy0 + j;
      for (var i = 0u; i < OWB; i++) {
        var a = V(0.0);
        for (var ky = 0u; ky < K; ky++) {
          for (var kx = 0u; kx < K; kx++) {
            a = fma(win[(j * S + ky) * SP + i * S + kx], wr[ky * K + kx], a);
          }
        }
        let ox = ox0 + i;
        let o = ((n * sp.ho + oy) * sp.wo + ox) * sp.cv + g;
        if (oy < sp.ho && ox < sp.wo) { sy[o] = epi(a, ec, o); }
      }
    }
    for (var r = 0u; r < KEEP; r++) {
      for (var q = 0u; q < SP; q++) { win[r * SP + q] = win[(r + NEW) * SP + q]; }
    }
  }
}

// dx: blocks of IHB x IWB input positions (multiples of S) as in backward_x; a thread walks `rpt`
// blocks down. Block rows start at multiples of IHB, so each step the dy rows advance by IHB / S:
// DTR dy rows and DTC dy columns per block (the host computes both), IHB / S of them new.
override DTR: u32;
override DTC: u32;

struct DxSlideParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32, iwb: u32, nch: u32, rpt: u32 }

@group(0) @binding(0) var<storage, read> tdy: array<V>;
@group(0) @binding(1) var<storage, read> twt: array<V>;
@group(0) @binding(2) var<storage, read_write> tdx: array<V>;
@group(0) @binding(3) var<uniform> tp: DxSlideParams;

@compute @workgroup_size(64)
fn backward_x_slide(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= tp.n * tp.nch * tp.iwb * tp.cv) { return; }
  let q0 = t / tp.cv;
  let g = t - q0 * tp.cv;
  let q1 = q0 / tp.iwb;
  let bx = q0 - q1 * tp.iwb;
  let n = q1 / tp.nch;
  let ch = q1 - n * tp.nch;
  let ix0 = bx * IWB;
  let oxb = i32(ix0 / S) + LO;
  let hl = i32(tp.ho) - 1;
  let wl = i32(tp.wo) - 1;
  let NEW = min(IHB / S, DTR);
  let KEEP = DTR - NEW;
  var wr: array<V, 25>;
  for (var i = 0u; i < K * K; i++) { wr[i] = twt[i * tp.cv + g]; }
  var win: array<V, 64>;
  let byA = ch * tp.rpt;
  let oyA = i32(byA * IHB / S) + LO;
  for (var r = 0u; r < KEEP; r++) {
    let oy = oyA + i32(r);
    let rowok = oy >= 0 && oy <= hl;
    let rowb = (n * tp.ho + u32(clamp(oy, 0, hl))) * tp.wo;
    for (var q = 0u; q < DTC; q++) {
      let ox = oxb + i32(q);
      win[r * DTC + q] = select(V(0.0), tdy[(rowb + u32(clamp(ox, 0, wl))) * tp.cv + g], rowok && ox >= 0 && ox <= wl);
    }
  }
  for (var step = 0u; step < tp.rpt; step++) {
    let iy0 = (byA + step) * IHB;
    if (iy0 >= tp.h) { break; }
    let oyb = i32(iy0 / S) + LO;
    for (var r = KEEP; r < DTR; r++) {
      let oy = oyb + i32(r);
      let rowok = oy >= 0 && oy <= hl;
      let rowb = (n * tp.ho + u32(clamp(oy, 0, hl))) * tp.wo;
      for (var q = 0u; q < DTC; q++) {
        let ox = oxb + i32(q);
        win[r * DTC + q] = select(V(0.0), tdy[(rowb + u32(clamp(ox, 0, wl))) * tp.cv + g], rowok && ox >= 0 && ox <= wl);
      }
    }
    for (var a = 0u; a < IHB; a++) {
      let iy = iy0 + a;
      for (var b = 0u; b < IWB; b++) {
        var acc = V(0.0);
        for (var qy = 0u; qy < DTR; qy++) {
          let ky = i32(a) + PAD - (LO + i32(qy)) * i32(S);
          if (ky >= 0 && ky < i32(K)) {
            for (var qx = 0u; qx < DTC; qx++) {
              let kx = i32(b) + PAD - (LO + i32(qx)) * i32(S);
              if (kx >= 0 && kx < i32(K)) {
                acc = fma(win[qy * DTC + qx], wr[u32(ky) * K + u32(kx)], acc);
              }
            }
          }
        }
        let ix = ix0 + b;
        if (iy < tp.h && ix < tp.w) { tdx[((n * tp.h + iy) * tp.w + ix) * tp.cv + g] = acc; }
      }
    }
    for (var r = 0u; r < KEEP; r++) {
      for (var q = 0u; q < DTC; q++) { win[r * DTC + q] = win[(r + NEW) * DTC + q]; }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// forward_small: maps of at most 16 input positions (MobileNetV3-Small's 4x4 and 2x2 layers at
// 64 px). One thread computes every output of one image and channel group. The map's sizes and
// the padding are override constants too, so every tap's validity is known when the pipeline is
// compiled: the taps that fall on padding (half of a 5x5 window over 4x4, 21 of 25 over 2x2)
// cost nothing, where the block kernel loads a clamped address and multiplies a zero for each.
// The input is loaded once (at most 16 values) and the weights once. FLIP as forward_slide (the
// stride-1 input gradient).
override SMH: u32;
override SMW: u32;
override SMHO: u32;
override SMWO: u32;
override SMPAD: i32;

struct SmallParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> mx: array<V>;
@group(0) @binding(1) var<storage, read> mwt: array<V>;
@group(0) @binding(2) var<storage, read_write> my: array<V>;
@group(0) @binding(3) var<uniform> mp: SmallParams;

// The input position (row-major in the SMH x SMW map) that output (oy, ox) reads through tap
// (ky, kx), or -1 where the tap falls on padding. With the sizes override constants and the small
// loops around it unrolled, the compiler knows which: keep the loops nested and short (one
// flattened loop over outputs x taps was not unrolled and ran 3x slower).
fn small_tap(oy: u32, ox: u32, ky: u32, kx: u32) -> i32 {
  let iy = i32(oy * S + ky) - SMPAD;
  let ix = i32(ox * S + kx) - SMPAD;
  return select(-1, iy * i32(SMW) + ix, iy >= 0 && iy < i32(SMH) && ix >= 0 && ix < i32(SMW));
}

@compute @workgroup_size(64)
fn forward_small(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= mp.n * mp.cv) { return; }
  let n = t / mp.cv;
  let g = t - n * mp.cv;
  var xin: array<V, 16>;
  for (var i = 0u; i < SMH * SMW; i++) { xin[i] = mx[(n * SMH * SMW + i) * mp.cv + g]; }
  var wr: array<V, 25>;
  for (var i = 0u; i < K * K; i++) { wr[i] = mwt[select(i, K * K - 1u - i, FLIP) * mp.cv + g]; }
  let ec = epi_coef(g);
  for (var oy = 0u; oy < SMHO; oy++) {
    for (var ox = 0u; ox < SMWO; ox++) {
      var a = V(0.0);
      for (var ky = 0u; ky < K; ky++) {
        for (var kx = 0u; kx < K; kx++) {
          let i = small_tap(oy, ox, ky, kx);
          if (i >= 0) { a = fma(xin[i], wr[ky * K + kx], a); }
        }
      }
      let o = ((n * SMHO + oy) * SMWO + ox) * mp.cv + g;
      my[o] = epi(a, ec, o);
    }
  }
}

// backward_w_small: the weight gradient over the same small maps. One thread per (split of `ipt`
// images, channel group) sums every tap over its images, the image's input map (at most 16
// values) and dy map (at most 4) loaded once each; taps that only ever meet padding compile to a
// zero store. Output [splits, K, K, C] partial sums.
struct SmallWParams { n: u32, h: u32, w: u32, cv: u32, ho: u32, wo: u32, ipt: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> mwx: array<V>;
@group(0) @binding(1) var<storage, read> mwdy: array<V>;
@group(0) @binding(2) var<storage, read_write> mwpart: array<V>;
@group(0) @binding(3) var<uniform> mwp: SmallWParams;

@compute @workgroup_size(64)
fn backward_w_small(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= mwp.splits * mwp.cv) { return; }
  let s = t / mwp.cv;
  let g = t - s * mwp.cv;
  var acc: array<V, 25>;
  for (var i = 0u; i < K * K; i++) { acc[i] = V(0.0); }
  for (var n = s * mwp.ipt; n < min(mwp.n, (s + 1u) * mwp.ipt); n++) {
    var xin: array<V, 16>;
    for (var i = 0u; i < SMH * SMW; i++) { xin[i] = mwx[(n * SMH * SMW + i) * mwp.cv + g]; }
    var d: array<V, 4>;
    for (var i = 0u; i < SMHO * SMWO; i++) { d[i] = mwdy[(n * SMHO * SMWO + i) * mwp.cv + g]; }
    for (var oy = 0u; oy < SMHO; oy++) {
      for (var ox = 0u; ox < SMWO; ox++) {
        for (var ky = 0u; ky < K; ky++) {
          for (var kx = 0u; kx < K; kx++) {
            let i = small_tap(oy, ox, ky, kx);
            if (i >= 0) { acc[ky * K + kx] = fma(xin[i], d[oy * SMWO + ox], acc[ky * K + kx]); }
          }
        }
      }
    }
  }
  for (var i = 0u; i < K * K; i++) { mwpart[(s * K * K + i) * mwp.cv + g] = acc[i]; }
}
