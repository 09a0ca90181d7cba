// int8 helpers where the adapter reports the WGSL language feature
// `packed_4x8_integer_dot_product`: the built-ins compile to native dot-product instructions.
// Prepended to every int8 kernel (kernels/int8-path.ts); shaders/int8-fallback.wgsl defines the
// same three functions without the feature. Words hold four int8, element 4k in the low byte.

// Sum of the four products of two words' signed bytes.
fn i8_dot4(a: u32, b: u32) -> i32 {
  return dot4I8Packed(a, b);
}

// The four signed bytes of a word, sign-extended.
fn i8_unpack(w: u32) -> vec4<i32> {
  return unpack4xI8(w);
}

// Packs four values already clamped to [-128, 127] into one word.
fn i8_pack(v: vec4<i32>) -> u32 {
  return pack4xI8(v);
}
