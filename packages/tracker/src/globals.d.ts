/** Compile-time constant (rollup replace / vitest define): true only in the script-tag build. */
declare const __SCRIPT__: boolean
