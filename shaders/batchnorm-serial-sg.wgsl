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
  let x0 = sw_shift(g, nfp.m, cv);
  let part = sw_sums(ln.k0, ln.end, cv, x0);
  let t = SwSums(rs_sum(part.s1), rs_sum(part.s2));
  let mean = x0 + t.s1 / mf;
  let m2 = sw_m2_of(t, mf);
  let invstd = 1.0 / sqrt(m2 / mf + nfp.eps);
  if (!ln.live) { return; }
  if (ln.lead) { nf_store_stats(g, cv, mean, invstd, m2, mf); }
  sw_apply(ln.k0, ln.end, cv, g, mean, invstd);
}

@compute @workgroup_size(WG)
fn serial_backward_sliced(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let cv = nbp.cv;
  let ln = slice_lane(wid.y * nwg.x + wid.x, sid, nbp.m, cv);
  let g = ln.g;
  let mean = nb_stats[g];
  let invstd = nb_stats[cv + g];
  let part = sw_dsums(ln.k0, ln.end, cv, g, mean, invstd);
  let t = SwDz(rs_sum(part.dz), rs_sum(part.dzx));
  if (!ln.live) { return; }
  if (ln.lead) {
    nb_dbeta[g] = t.dz;
    nb_dgamma[g] = t.dzx;
  }
  sw_dx(ln.k0, ln.end, cv, g, mean, invstd, t);
}
