// Three outputs from one source tree; variants differ only by compile-time constants, which
// terser folds away (dead-code elimination), never by templates.
import replace from '@rollup/plugin-replace'
import terser from '@rollup/plugin-terser'
import typescript from '@rollup/plugin-typescript'

const ts = () => typescript({ tsconfig: './tsconfig.build.json', declaration: false, declarationDir: undefined, outDir: undefined })
const constants = (script) => replace({ preventAssignment: true, values: { __SCRIPT__: String(script) } })

export default [
  {
    // Script tag: dist/closeloop.js. Size is design goal number one (budget: 4,096 B gzip).
    input: 'src/script.ts',
    output: { file: 'dist/closeloop.js', format: 'iife', strict: false },
    plugins: [
      constants(true),
      ts(),
      terser({
        ecma: 2020,
        toplevel: true,
        // hoist_funs: function declarations first, a layout that gzips smaller here.
        compress: { passes: 5, hoist_funs: true, unsafe: true, unsafe_arrows: true, unsafe_methods: true, unsafe_comps: true, pure_getters: true },
        mangle: { toplevel: true },
        // The compile hint has Chromium compile every function with the script, off the main thread
        // while an async script streams in, rather than each on its first call during start-up.
        format: { comments: false, wrap_func_args: false, preamble: '//# allFunctionsCalledOnLoad' },
      }),
    ],
  },
  {
    input: 'src/index.ts',
    output: [
      { file: 'dist/index.mjs', format: 'es' },
      { file: 'dist/index.cjs', format: 'cjs' },
    ],
    plugins: [constants(false), ts()],
  },
  {
    input: 'src/channel-full.ts',
    output: [
      { file: 'dist/channel.mjs', format: 'es' },
      { file: 'dist/channel.cjs', format: 'cjs' },
    ],
    plugins: [ts()],
  },
]
