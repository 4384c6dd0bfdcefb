// tsc writes one ESM .d.ts per source file to dist/types. Each gets a .d.cts twin whose relative
// imports name .cjs files, so `require` consumers get CommonJS declarations (in a "type": "module"
// package a .d.ts is ESM). The entry files re-export the generated entry declarations: dist/index.d.ts
// and dist/channel.d.ts for `import`, dist/index.d.cts and dist/channel.d.cts for `require`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'

const dist = (p) => new URL('../dist/' + p, import.meta.url)
for (const f of readdirSync(dist('types'))) {
  if (!f.endsWith('.d.ts')) continue
  const cts = readFileSync(dist('types/' + f), 'utf8').replace(/((?:from |import\()(['"])\.\.?\/[^'"]+)\.js\2/g, '$1.cjs$2')
  writeFileSync(dist('types/' + f.replace(/\.d\.ts$/, '.d.cts')), cts)
}
for (const [entry, source] of [['index', 'index'], ['channel', 'channel-full']]) {
  writeFileSync(dist(entry + '.d.ts'), `export * from './types/${source}.js'\n`)
  writeFileSync(dist(entry + '.d.cts'), `export * from './types/${source}.cjs'\n`)
}
