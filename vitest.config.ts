import { defineConfig } from 'vitest/config';
import { readFileSync } from 'node:fs';

// WGSL files are imported as text, exactly as esbuild's `text` loader does for the builds.
export default defineConfig({
  plugins: [{
    name: 'wgsl-as-text',
    enforce: 'pre',
    load(id: string) {
      if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
      return null;
    },
  }],
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
