// int8 helpers for adapters without the WGSL language feature `packed_4x8_integer_dot_product`
// (and for testing that path everywhere): shifts and masks in place of the built-ins. Same
// functions and results as shaders/int8-native.wgsl.

// Sign extension: move each byte to the top of an i32, then shift it back arithmetically.
fn i8_unpack(w: u32) -> vec4<i32> {
  return bitcast<vec4<i32>>(vec4<u32>(w) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);
}

fn i8_dot4(a: u32, b: u32) -> i32 {
  return dot(i8_unpack(a), i8_unpack(b));
}

fn i8_pack(v: vec4<i32>) -> u32 {
  let b = bitcast<vec4<u32>>(v) & vec4<u32>(0xffu);
  return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
