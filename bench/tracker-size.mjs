// Bytes of the tracker script beside peers' published browser bundles (SPEC §10: dist/closeloop.js
// ≤ 4,096 B gzip -9). Peers come from npm into a scratch folder under the OS temp dir, so the
// figures are for what a site would actually ship today; each row names the file measured.
//   node tracker-size.mjs [--keep] [--check]   (--keep leaves the scratch folder; --check exits 1 over budget)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const BUDGET_GZIP = 4096
const OURS = fileURLToPath(new URL('../packages/tracker/dist/closeloop.js', import.meta.url))

/** The file each peer serves to browsers by default, and what that file is. */
const PEERS = [
  { pkg: '@segment/analytics-next', file: 'dist/umd/standalone.js', what: 'CDN/snippet entry chunk; loads further chunks at run time' },
  { pkg: '@plausible-analytics/tracker', file: 'plausible.js', what: 'npm ESM module, no dependencies, unminified' },
  { pkg: 'sourcebuster', file: 'dist/sourcebuster.min.js', what: 'minified UMD' },
  { pkg: '@amplitude/plugin-web-attribution-browser', file: 'lib/scripts/amplitude-min.umd.js', what: 'minified UMD plugin; needs the Amplitude SDK beside it' },
]

function measure(path) {
  const code = readFileSync(path)
  return {
    raw: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
    brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  }
}

if (!existsSync(OURS)) {
  console.error(`${OURS} is missing: build the tracker first (npx -y pnpm@10 -C packages/tracker build)`)
  process.exit(1)
}

const scratch = mkdtempSync(join(tmpdir(), 'closeloop-peers-'))
try {
  execFileSync('npm', ['install', '--prefix', scratch, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...PEERS.map((p) => p.pkg)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const rows = [{ name: '@closeloop/tracker (this repo)', file: 'packages/tracker/dist/closeloop.js', what: 'IIFE for the script tag', ...measure(OURS) }]
  for (const p of PEERS) {
    const dir = join(scratch, 'node_modules', p.pkg)
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    rows.push({ name: `${p.pkg}@${version}`, file: p.file, what: p.what, ...measure(join(dir, p.file)) })
  }
  const w = Math.max(...rows.map((r) => r.name.length))
  console.log(`${'package'.padEnd(w)}  ${'raw B'.padStart(8)}  ${'gzip -9 B'.padStart(9)}  ${'brotli B'.padStart(8)}  file measured`)
  for (const r of rows)
    console.log(`${r.name.padEnd(w)}  ${String(r.raw).padStart(8)}  ${String(r.gzip).padStart(9)}  ${String(r.brotli).padStart(8)}  ${r.file} (${r.what})`)
  const ours = rows[0]
  console.log(`\ndist/closeloop.js gzip -9: ${ours.gzip} B of a ${BUDGET_GZIP} B budget — ${ours.gzip <= BUDGET_GZIP ? 'within' : 'OVER'} budget`)
  if (ours.gzip > BUDGET_GZIP && process.argv.includes('--check')) process.exitCode = 1
} finally {
  if (process.argv.includes('--keep')) console.log(`peers kept in ${scratch}`)
  else rmSync(scratch, { recursive: true, force: true })
}
