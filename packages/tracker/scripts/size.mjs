// Prints raw, gzip -9 and brotli bytes of dist/closeloop.js; `--check` fails above the budget.
import { readFileSync } from 'node:fs'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const BUDGET_GZIP = 3072
const file = new URL('../dist/closeloop.js', import.meta.url)
const code = readFileSync(file)
const gzip = gzipSync(code, { level: 9 }).length
const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
console.log(`dist/closeloop.js: ${code.length} B raw, ${gzip} B gzip -9, ${brotli} B brotli (budget ${BUDGET_GZIP} B gzip)`)
if (process.argv.includes('--check') && gzip > BUDGET_GZIP) {
  console.error(`dist/closeloop.js is ${gzip - BUDGET_GZIP} B over the ${BUDGET_GZIP} B gzip budget`)
  process.exit(1)
}
