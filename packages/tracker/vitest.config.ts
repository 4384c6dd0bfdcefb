import { defineConfig } from 'vitest/config'

// Node environment: DOM tests build their own window with test/helpers.ts `browser()` (jsdom from
// this package, which runs on Node 20; vitest's bundled jsdom peer needs Node 22).
export default defineConfig({
  define: { __SCRIPT__: 'false' },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    unstubGlobals: true,
  },
})
