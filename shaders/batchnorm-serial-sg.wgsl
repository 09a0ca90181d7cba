// ---- tiny tensors on CPU adapters, rows sliced over subgroup lanes ----------------------------
// serial_forward / serial_backward (shaders/batchnorm.wgsl) give each channel group one thread:
// with few channel groups (a 16-channel layer is 4 vec4 groups) most SIMD lanes idle and all the
// work lands on one or two of the CPU's threads. Here RS lanes (a power of two) share a channel
// group, each walking its own contiguous slice of the rows, and the slices' sums meet through
// subgroupShuffleXor: still no barrier (which would run the shader as coroutines), still one
// dispatch. The workgroup is one subgroup (WG = the adapter's subgroup size), the RS lanes of a
// group are adjacent subgroup lanes, so the butterfly stays inside the group, and every lane ends
// with the same sums (each level adds the same two values in either order). Lanes past the last
// group read group cv-1 and write nothing, so the shuffles run in uniform control flow.
// Appended after shaders/batchnorm.wgsl, with `enable subgroups;` first (kernels/batchnorm.ts).
override RS: u32 = 2u;
override WG: u32 = 8u;

fn rs_sum(v: V) -> V {
  var t = v;
  for (var b = 1u; b < RS; b <<= 1u) { t += subgroupShuffleXor(t, b); }
  return t;
}

struct SliceLane { g: u32, live: bool, k0: u32, end: u32, lead: bool }

// Lane `sid` of workgroup `wgi`: its channel group and its slice of the rows (as element indices).
fn slice_lane(wgi: u32, sid: u32, m: u32, cv: u32) -> SliceLane {
  let gi = wgi * (WG / RS) + sid / RS;
  let r = sid % RS;
  let g = min(gi, cv - 1u);
  let chunk = (m + RS - 1u) / RS;
  let r0 = min(m, r * chunk);
  let r1 = min(m, r0 + chunk);
  return SliceLane(g, gi < cv, r0 * cv + g, r1 * cv + g, r == 0u);
}

@compute @workgroup_size(WG)
fn serial_forward_sliced(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let cv = nfp.cv;
  let ln = slice_lane(wid.y * nwg.x + wid.x, sid, nfp.m, cv);
  let g = ln.g;
  let mf = f32(nfp.m);
  let step = SB * cv;
  // As serial_forward: sums relative to the channel's first row, in blocks of SB rows.
  let x0 = nf_x[g];
  var s = V(0.0);
  for (var k0 = ln.k0; k0 < ln.end; k0 += step) {
    var b = V(0.0);
    for (var k = k0; k < min(k0 + step, ln.end); k += cv) { b += nf_x[k] - x0; }
    s += b;
  }
  let mean = x0 + rs_sum(s) / mf;
  var s2 = V(0.0);
  for (var k0 = ln.k0; k0 < ln.end; k0 += step) {
    var b = V(0.0);
    for (var k = k0; k < min(k0 + step, ln.end); k += cv) {
      let d = nf_x[k] - mean;
      b = fma(d, d, b);
    }
    s2 += b;
  }
  let m2 = rs_sum(s2);
  let invstd = 1.0 / sqrt(m2 / mf + nfp.eps);
  if (!ln.live) { return; }
  if (ln.lead) { nf_store_stats(g, cv, mean, invstd, m2, mf); }
  let gm = nf_gamma[g];
  let bt = nf_beta[g];
  for (var k = ln.k0; k < ln.end; k += cv) {
    nf_y[k] = act(fma((nf_x[k] - mean) * invstd, gm, bt));
  }
}

@compute @workgroup_size(WG)
fn serial_backward_sliced(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let cv = nbp.cv;
  let ln = slice_lane(wid.y * nwg.x + wid.x, sid, nbp.m, cv);
  let g = ln.g;
  let step = SB * cv;
  let mean = nb_stats[g];
  let invstd = nb_stats[cv + g];
  let gm = nb_gamma[g];
  let bt = nb_beta[g];
  var sdz = V(0.0);
  var sdzx = V(0.0);
  for (var k0 = ln.k0; k0 < ln.end; k0 += step) {
    var bz = V(0.0);
    var bzx = V(0.0);
    for (var k = k0; k < min(k0 + step, ln.end); k += cv) {
      let xhat = (nb_x[k] - mean) * invstd;
      let dz = nb_dy[k] * dact(fma(xhat, gm, bt));
      bz += dz;
      bzx = fma(dz, xhat, bzx);
    }
    sdz += bz;
    sdzx += bzx;
  }
  let tdz = rs_sum(sdz);
  let tdzx = rs_sum(sdzx);
  if (!ln.live) { return; }
  if (ln.lead) {
    nb_dbeta[g] = tdz;
    nb_dgamma[g] = tdzx;
  }
  let cb = tdz / f32(nbp.m);
  let cg = tdzx / f32(nbp.m);
  let k_out = gm * invstd;
  for (var k = ln.k0; k < ln.end; k += cv) {
    let xhat = (nb_x[k] - mean) * invstd;
    let dz = nb_dy[k] * dact(fma(xhat, gm, bt));
    nb_dx[k] = k_out * (dz - fma(xhat, cg, cb));
  }
}
