/** WGSL sources are bundled as strings (esbuild `text` loader, vitest plugin). */
declare module '*.wgsl' {
  const source: string;
  export default source;
}

/** The package's ESM build (its "main" is CommonJS marked as ESM, which Node cannot load). */
declare module 'wgsl_reflect/wgsl_reflect.module.js';
