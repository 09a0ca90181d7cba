// General matrix multiply, register-tiled: c = op(a) · op(b) (+ bias), split over K when asked.
// Layouts (row-major f32):
//   a: [m, k], or [k, m] when TRANS_A (op(a) = a^T)
//   b: [k, n], or [n, k] when TRANS_B
//   bias: [n], read only when HAS_BIAS (otherwise any bound buffer; it is never read)
//   c: [splits, m, n]; split s holds the partial sum over k in [s*chunk, (s+1)*chunk), and
//      the op sums the splits afterwards (a second pass) when splits > 1.
// Each invocation computes an 8-row x 8-column tile of c in registers. On lavapipe every loaded
// component costs about as much as fifteen 8-wide FMAs, so the tile exists to reuse each load:
// 16 loads feed 64 FMAs per k-step (8x8 measured ahead of 8x4, 4x8, 16x4 and 8x12 there, even
// though 64 accumulators exceed the CPU's vector registers; the vec4 weight-gradient kernel also
// runs 8x12 tiles, TN_GROUPS = 3, which pay there). Workgroup-memory tiling does not
// pay there (loads from workgroup memory cost the same), so there is none. Tail tiles clamp their row and column
// indices to the last valid one (loads stay in bounds without branches in the k loop) and store
// only the valid part. Transposition changes only the strides, which the override constants fix
// at pipeline creation so the compiler sees constants.
// Grids are 2-D (see gridFor in src/kernel/define-kernel.ts); the linear id is rebuilt here.
// Lanes next to each other take tiles next to each other along n, so their b loads are adjacent.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// An activation applied after the bias (kernels/activation.ts codes; 4 = identity): linearAct's
// forward. Only with one split (the splits are summed afterwards).
override OUT_ACT: u32 = 4u;

struct GemmParams { m: u32, n: u32, k: u32, chunk: u32, tiles_m: u32, tiles_n: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: GemmParams;

// Stores four columns of one row, dropping those past n.
fn store4(row: u32, col: u32, base: u32, v: vec4f) {
  var w = v;
  if (HAS_BIAS) {
    // Bias goes into split 0 only (base 0); the splits are summed afterwards.
    if (base == 0u) {
      let last = p.n - 1u;
      w += vec4f(bias[min(col, last)], bias[min(col + 1u, last)], bias[min(col + 2u, last)], bias[min(col + 3u, last)]);
    }
  }
  w = out_act(w);
  let o = base + row * p.n + col;
  if (col + 3u < p.n) {
    c[o] = w.x;
    c[o + 1u] = w.y;
    c[o + 2u] = w.z;
    c[o + 3u] = w.w;
    return;
  }
  if (col < p.n) { c[o] = w.x; }
  if (col + 1u < p.n) { c[o + 1u] = w.y; }
  if (col + 2u < p.n) { c[o + 2u] = w.z; }
}

// Stores one row of the tile (columns col..col+7), dropping rows past m.
fn store_row(row: u32, col: u32, base: u32, lo: vec4f, hi: vec4f) {
  if (row >= p.m) { return; }
  store4(row, col, base, lo);
  store4(row, col + 4u, base, hi);
}

@compute @workgroup_size(64)
fn gemm(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  let tiles = p.tiles_m * p.tiles_n;
  if (t >= tiles * p.splits) { return; }
  let s = t / tiles;
  let r = t - s * tiles;
  let tm = r / p.tiles_n;
  let tn = r - tm * p.tiles_n;
  let m0 = tm * 8u;
  let n0 = tn * 8u;

  // Strides of op(a) along m and k, and of op(b) along k and n.
  let sam = select(p.k, 1u, TRANS_A);
  let sak = select(1u, p.m, TRANS_A);
  let sbk = select(p.n, 1u, TRANS_B);
  let sbn = select(1u, p.k, TRANS_B);
  let ml = p.m - 1u;
  let nl = p.n - 1u;
  let a0 = min(m0, ml) * sam;
  let a1 = min(m0 + 1u, ml) * sam;
  let a2 = min(m0 + 2u, ml) * sam;
  let a3 = min(m0 + 3u, ml) * sam;
  let a4 = min(m0 + 4u, ml) * sam;
  let a5 = min(m0 + 5u, ml) * sam;
  let a6 = min(m0 + 6u, ml) * sam;
  let a7 = min(m0 + 7u, ml) * sam;
  let b0 = min(n0, nl) * sbn;
  let b1 = min(n0 + 1u, nl) * sbn;
  let b2 = min(n0 + 2u, nl) * sbn;
  let b3 = min(n0 + 3u, nl) * sbn;
  let b4 = min(n0 + 4u, nl) * sbn;
  let b5 = min(n0 + 5u, nl) * sbn;
  let b6 = min(n0 + 6u, nl) * sbn;
  let b7 = min(n0 + 7u, nl) * sbn;

  let k0 = s * p.chunk;
  let k1 = min(p.k, k0 + p.chunk);
  // c{row}{l|h}: columns n0..n0+3 and n0+4..n0+7 of each of the 8 rows.
  var c0l = vec4f(0.0);
  var c0h = vec4f(0.0);
  var c1l = vec4f(0.0);
  var c1h = vec4f(0.0);
  var c2l = vec4f(0.0);
  var c2h = vec4f(0.0);
  var c3l = vec4f(0.0);
  var c3h = vec4f(0.0);
  var c4l = vec4f(0.0);
  var c4h = vec4f(0.0);
  var c5l = vec4f(0.0);
  var c5h = vec4f(0.0);
  var c6l = vec4f(0.0);
  var c6h = vec4f(0.0);
  var c7l = vec4f(0.0);
  var c7h = vec4f(0.0);
  var ka = k0 * sak;
  var kb = k0 * sbk;
  for (var kk = k0; kk < k1; kk++) {
    let bl = vec4f(b[b0 + kb], b[b1 + kb], b[b2 + kb], b[b3 + kb]);
    let bh = vec4f(b[b4 + kb], b[b5 + kb], b[b6 + kb], b[b7 + kb]);
    let v0 = vec4f(a[a0 + ka]);
    c0l = fma(v0, bl, c0l);
    c0h = fma(v0, bh, c0h);
    let v1 = vec4f(a[a1 + ka]);
    c1l = fma(v1, bl, c1l);
    c1h = fma(v1, bh, c1h);
    let v2 = vec4f(a[a2 + ka]);
    c2l = fma(v2, bl, c2l);
    c2h = fma(v2, bh, c2h);
    let v3 = vec4f(a[a3 + ka]);
    c3l = fma(v3, bl, c3l);
    c3h = fma(v3, bh, c3h);
    let v4 = vec4f(a[a4 + ka]);
    c4l = fma(v4, bl, c4l);
    c4h = fma(v4, bh, c4h);
    let v5 = vec4f(a[a5 + ka]);
    c5l = fma(v5, bl, c5l);
    c5h = fma(v5, bh, c5h);
    let v6 = vec4f(a[a6 + ka]);
    c6l = fma(v6, bl, c6l);
    c6h = fma(v6, bh, c6h);
    let v7 = vec4f(a[a7 + ka]);
    c7l = fma(v7, bl, c7l);
    c7h = fma(v7, bh, c7h);
    ka += sak;
    kb += sbk;
  }

  let base = s * p.m * p.n;
  store_row(m0, n0, base, c0l, c0h);
  store_row(m0 + 1u, n0, base, c1l, c1h);
  store_row(m0 + 2u, n0, base, c2l, c2h);
  store_row(m0 + 3u, n0, base, c3l, c3h);
  store_row(m0 + 4u, n0, base, c4l, c4h);
  store_row(m0 + 5u, n0, base, c5l, c5h);
  store_row(m0 + 6u, n0, base, c6l, c6h);
  store_row(m0 + 7u, n0, base, c7l, c7h);
}

// ---- gemm_tn4: c = a^T · b with a stored [k, m], b [k, n], m % 4 == 0, n % 4 == 0 ----------------
// The weight gradients' shape (k = batch x pixels, split over k). Each k-step's eight rows of op(a)
// and the tile's columns of b are contiguous, so they come as vec4 loads (a vec4 load costs
// lavapipe about half as much per component as four scalar ones: one bounds-checked lane loop for
// four values). 8-row tiles of TN_GROUPS vec4 column groups: 2 (8x8, as `gemm`) or 3 (8x12: five
// loads per k-step feed 96 FMAs instead of four feeding 64; chosen where n pads to at most 10 %
// more columns, src/ops/matmul.ts). TN_GROUPS is an override constant, so the unused third group
// folds away at pipeline creation. Tail tiles clamp their loads and store only the vec4 groups
// below n. No bias.
override TN_GROUPS: u32 = 2u;
struct TnParams { m: u32, n: u32, k: u32, chunk: u32, tiles_m: u32, tiles_n: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> ta: array<vec4f>;
@group(0) @binding(1) var<storage, read> tb: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> tc: array<f32>;
@group(0) @binding(3) var<uniform> tp: TnParams;

// Stores vec4 group v of row `row` at column `col`, if the row and the group are inside c.
fn tn_store4(row: u32, col: u32, base: u32, v: vec4f) {
  if (row >= tp.m || col >= tp.n) { return; }
  let o = base + row * tp.n + col;
  tc[o] = v.x;
  tc[o + 1u] = v.y;
  tc[o + 2u] = v.z;
  tc[o + 3u] = v.w;
}

@compute @workgroup_size(64)
fn gemm_tn4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  let tiles = tp.tiles_m * tp.tiles_n;
  if (t >= tiles * tp.splits) { return; }
  let s = t / tiles;
  let r = t - s * tiles;
  let tm = r / tp.tiles_n;
  let tn = r - tm * tp.tiles_n;
  let mv = tp.m / 4u;
  let nv = tp.n / 4u;
  // vec4 column indices of this tile's rows (op(a)) and columns (b), clamped on tail tiles.
  let a0 = min(tm * 2u, mv - 1u);
  let a1 = min(tm * 2u + 1u, mv - 1u);
  let i0 = min(tn * TN_GROUPS, nv - 1u);
  let i1 = min(tn * TN_GROUPS + 1u, nv - 1u);
  let i2 = min(tn * TN_GROUPS + 2u, nv - 1u);
  let k0 = s * tp.chunk;
  let k1 = min(tp.k, k0 + tp.chunk);
  var c00 = vec4f(0.0);
  var c01 = vec4f(0.0);
  var c02 = vec4f(0.0);
  var c10 = vec4f(0.0);
  var c11 = vec4f(0.0);
  var c12 = vec4f(0.0);
  var c20 = vec4f(0.0);
  var c21 = vec4f(0.0);
  var c22 = vec4f(0.0);
  var c30 = vec4f(0.0);
  var c31 = vec4f(0.0);
  var c32 = vec4f(0.0);
  var c40 = vec4f(0.0);
  var c41 = vec4f(0.0);
  var c42 = vec4f(0.0);
  var c50 = vec4f(0.0);
  var c51 = vec4f(0.0);
  var c52 = vec4f(0.0);
  var c60 = vec4f(0.0);
  var c61 = vec4f(0.0);
  var c62 = vec4f(0.0);
  var c70 = vec4f(0.0);
  var c71 = vec4f(0.0);
  var c72 = vec4f(0.0);
  var ka = k0 * mv;
  var kb = k0 * nv;
  for (var kk = k0; kk < k1; kk++) {
    let al = ta[ka + a0];
    let ah = ta[ka + a1];
    let b0 = tb[kb + i0];
    let b1 = tb[kb + i1];
    var b2 = vec4f(0.0);
    if (TN_GROUPS == 3u) { b2 = tb[kb + i2]; }
    c00 = fma(vec4f(al.x), b0, c00);
    c01 = fma(vec4f(al.x), b1, c01);
    if (TN_GROUPS == 3u) { c02 = fma(vec4f(al.x), b2, c02); }
    c10 = fma(vec4f(al.y), b0, c10);
    c11 = fma(vec4f(al.y), b1, c11);
    if (TN_GROUPS == 3u) { c12 = fma(vec4f(al.y), b2, c12); }
    c20 = fma(vec4f(al.z), b0, c20);
    c21 = fma(vec4f(al.z), b1, c21);
    if (TN_GROUPS == 3u) { c22 = fma(vec4f(al.z), b2, c22); }
    c30 = fma(vec4f(al.w), b0, c30);
    c31 = fma(vec4f(al.w), b1, c31);
    if (TN_GROUPS == 3u) { c32 = fma(vec4f(al.w), b2, c32); }
    c40 = fma(vec4f(ah.x), b0, c40);
    c41 = fma(vec4f(ah.x), b1, c41);
    if (TN_GROUPS == 3u) { c42 = fma(vec4f(ah.x), b2, c42); }
    c50 = fma(vec4f(ah.y), b0, c50);
    c51 = fma(vec4f(ah.y), b1, c51);
    if (TN_GROUPS == 3u) { c52 = fma(vec4f(ah.y), b2, c52); }
    c60 = fma(vec4f(ah.z), b0, c60);
    c61 = fma(vec4f(ah.z), b1, c61);
    if (TN_GROUPS == 3u) { c62 = fma(vec4f(ah.z), b2, c62); }
    c70 = fma(vec4f(ah.w), b0, c70);
    c71 = fma(vec4f(ah.w), b1, c71);
    if (TN_GROUPS == 3u) { c72 = fma(vec4f(ah.w), b2, c72); }
    ka += mv;
    kb += nv;
  }
  let base = s * tp.m * tp.n;
  let m0 = tm * 8u;
  let n0 = tn * 4u * TN_GROUPS;
  tn_store4(m0 + 0u, n0, base, c00);
  tn_store4(m0 + 0u, n0 + 4u, base, c01);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 0u, n0 + 8u, base, c02); }
  tn_store4(m0 + 1u, n0, base, c10);
  tn_store4(m0 + 1u, n0 + 4u, base, c11);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 1u, n0 + 8u, base, c12); }
  tn_store4(m0 + 2u, n0, base, c20);
  tn_store4(m0 + 2u, n0 + 4u, base, c21);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 2u, n0 + 8u, base, c22); }
  tn_store4(m0 + 3u, n0, base, c30);
  tn_store4(m0 + 3u, n0 + 4u, base, c31);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 3u, n0 + 8u, base, c32); }
  tn_store4(m0 + 4u, n0, base, c40);
  tn_store4(m0 + 4u, n0 + 4u, base, c41);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 4u, n0 + 8u, base, c42); }
  tn_store4(m0 + 5u, n0, base, c50);
  tn_store4(m0 + 5u, n0 + 4u, base, c51);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 5u, n0 + 8u, base, c52); }
  tn_store4(m0 + 6u, n0, base, c60);
  tn_store4(m0 + 6u, n0 + 4u, base, c61);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 6u, n0 + 8u, base, c62); }
  tn_store4(m0 + 7u, n0, base, c70);
  tn_store4(m0 + 7u, n0 + 4u, base, c71);
  if (TN_GROUPS == 3u) { tn_store4(m0 + 7u, n0 + 8u, base, c72); }
}

// ---- gemm_nn4: c = a · b with a [m, k], b [k, n], n % 4 == 0 --------------------------------------
// Forward and input-gradient shapes when the subgroup kernel is not used (short k, no subgroups):
// the eight columns of b a k-step needs are contiguous, so two vec4 loads replace eight scalar
// ones (1.1-1.3x CPU time on lavapipe); op(a)'s eight rows stay scalar loads. No bias.
struct NnParams { m: u32, n: u32, k: u32, chunk: u32, tiles_m: u32, tiles_n: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> na: array<f32>;
@group(0) @binding(1) var<storage, read> nb: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> nc: array<vec4f>;
@group(0) @binding(3) var<uniform> np: NnParams;

// Stores row `row` of the tile (columns col..col+7, whole vec4 groups, n % 4 == 0).
fn nn_store_row(row: u32, col: u32, base: u32, lo: vec4f, hi: vec4f, elo: EpiCoef, ehi: EpiCoef) {
  if (row >= np.m) { return; }
  let o = base + row * np.n + col;
  // epi: the inference epilogue (kernels/epilogue.ts), the identity in training's kernels.
  // One vec4 store per four columns (n % 4 == 0): llvmpipe's store loop over the lanes runs once
  // for the four values instead of four times (1.04-1.14x on MobileNetV3-Small's short-K layers).
  if (col < np.n) { nc[o / 4u] = epi(lo, elo, o / 4u); }
  if (col + 4u < np.n) { nc[o / 4u + 1u] = epi(hi, ehi, o / 4u + 1u); }
}

@compute @workgroup_size(64)
fn gemm_nn4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  let tiles = np.tiles_m * np.tiles_n;
  if (t >= tiles * np.splits) { return; }
  let s = t / tiles;
  let r = t - s * tiles;
  let tm = r / np.tiles_n;
  let tn = r - tm * np.tiles_n;
  let m0 = tm * 8u;
  let n0 = tn * 8u;
  let ml = np.m - 1u;
  let a0 = min(m0, ml) * np.k;
  let a1 = min(m0 + 1u, ml) * np.k;
  let a2 = min(m0 + 2u, ml) * np.k;
  let a3 = min(m0 + 3u, ml) * np.k;
  let a4 = min(m0 + 4u, ml) * np.k;
  let a5 = min(m0 + 5u, ml) * np.k;
  let a6 = min(m0 + 6u, ml) * np.k;
  let a7 = min(m0 + 7u, ml) * np.k;
  let nv = np.n / 4u;
  let b0 = min(tn * 2u, nv - 1u);
  let b1 = min(tn * 2u + 1u, nv - 1u);
  let k0 = s * np.chunk;
  let k1 = min(np.k, k0 + np.chunk);
  var c0l = vec4f(0.0);
  var c0h = vec4f(0.0);
  var c1l = vec4f(0.0);
  var c1h = vec4f(0.0);
  var c2l = vec4f(0.0);
  var c2h = vec4f(0.0);
  var c3l = vec4f(0.0);
  var c3h = vec4f(0.0);
  var c4l = vec4f(0.0);
  var c4h = vec4f(0.0);
  var c5l = vec4f(0.0);
  var c5h = vec4f(0.0);
  var c6l = vec4f(0.0);
  var c6h = vec4f(0.0);
  var c7l = vec4f(0.0);
  var c7h = vec4f(0.0);
  var kb = k0 * nv;
  for (var kk = k0; kk < k1; kk++) {
    let bl = nb[kb + b0];
    let bh = nb[kb + b1];
    let v0 = vec4f(na[a0 + kk]);
    c0l = fma(v0, bl, c0l);
    c0h = fma(v0, bh, c0h);
    let v1 = vec4f(na[a1 + kk]);
    c1l = fma(v1, bl, c1l);
    c1h = fma(v1, bh, c1h);
    let v2 = vec4f(na[a2 + kk]);
    c2l = fma(v2, bl, c2l);
    c2h = fma(v2, bh, c2h);
    let v3 = vec4f(na[a3 + kk]);
    c3l = fma(v3, bl, c3l);
    c3h = fma(v3, bh, c3h);
    let v4 = vec4f(na[a4 + kk]);
    c4l = fma(v4, bl, c4l);
    c4h = fma(v4, bh, c4h);
    let v5 = vec4f(na[a5 + kk]);
    c5l = fma(v5, bl, c5l);
    c5h = fma(v5, bh, c5h);
    let v6 = vec4f(na[a6 + kk]);
    c6l = fma(v6, bl, c6l);
    c6h = fma(v6, bh, c6h);
    let v7 = vec4f(na[a7 + kk]);
    c7l = fma(v7, bl, c7l);
    c7h = fma(v7, bh, c7h);
    kb += nv;
  }
  let base = s * np.m * np.n;
  // The epilogue's coefficients of the two column groups, once per thread (identity in training).
  let elo = epi_coef(min(n0 / 4u, nv - 1u));
  let ehi = epi_coef(min(n0 / 4u + 1u, nv - 1u));
  nn_store_row(m0, n0, base, c0l, c0h, elo, ehi);
  nn_store_row(m0 + 1u, n0, base, c1l, c1h, elo, ehi);
  nn_store_row(m0 + 2u, n0, base, c2l, c2h, elo, ehi);
  nn_store_row(m0 + 3u, n0, base, c3l, c3h, elo, ehi);
  nn_store_row(m0 + 4u, n0, base, c4l, c4h, elo, ehi);
  nn_store_row(m0 + 5u, n0, base, c5l, c5h, elo, ehi);
  nn_store_row(m0 + 6u, n0, base, c6l, c6h, elo, ehi);
  nn_store_row(m0 + 7u, n0, base, c7l, c7h, elo, ehi);
}

// ---- transpose: dst [cols, rows] = src [rows, cols]^T ---------------------------------------------
// Lets short-K products with op(b) = b^T run on gemm_nn4 (b read as vec4 along n) instead of the
// scalar TRANS_B tile: the input gradients of pointwise convs with Cout < 64 transpose the small
// weight once (n * k values) and save scalar loads on every one of the m rows.
struct TrParams { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> tr_src: array<f32>;
@group(0) @binding(1) var<storage, read_write> tr_dst: array<f32>;
@group(0) @binding(2) var<uniform> trp: TrParams;

@compute @workgroup_size(64)
fn transpose(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= trp.rows * trp.cols) { return; }
  let r = i / trp.cols;
  let c = i - r * trp.cols;
  tr_dst[c * trp.rows + r] = tr_src[i];
}
