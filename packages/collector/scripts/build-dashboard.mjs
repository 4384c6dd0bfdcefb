#!/usr/bin/env node
// Bundles the dashboard client (src/dashboard/client) into dist/dashboard/assets/: main.js, a
// lazily loaded chart chunk (uPlot) and styles.css, no CDN, so the dashboard works offline under a strict CSP.
// Prints raw and gzip sizes; `node scripts/build-dashboard.mjs` or import { buildDashboard }.
import { build } from 'esbuild'
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = fileURLToPath(new URL('..', import.meta.url))

export async function buildDashboard({ outdir = `${root}dist/dashboard/assets`, quiet = false } = {}) {
  // Stale hashed chunks from an earlier build must not be served.
  rmSync(outdir, { recursive: true, force: true })
  await build({
    entryPoints: [`${root}src/dashboard/client/main.ts`, `${root}src/dashboard/client/styles.css`],
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    // ESM with splitting so uPlot (most of the bytes) loads only when the chart view opens.
    splitting: true,
    format: 'esm',
    minify: true,
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    legalComments: 'none',
    logLevel: quiet ? 'silent' : 'warning',
  })
  const sizes = {}
  for (const name of readdirSync(outdir).sort()) {
    const buf = readFileSync(`${outdir}/${name}`)
    sizes[name] = { raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length }
  }
  if (!quiet) {
    for (const [name, s] of Object.entries(sizes)) console.log(`dashboard ${name}: ${s.raw} B raw, ${s.gzip} B gzip -9`)
  }
  return sizes
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDashboard()
}
