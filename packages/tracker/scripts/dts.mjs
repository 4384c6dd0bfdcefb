// tsc writes one .d.ts per source file to dist/types; the package's `types` paths point at
// dist/index.d.ts and dist/channel.d.ts, which re-export the generated entry declarations.
import { writeFileSync } from 'node:fs'

writeFileSync(new URL('../dist/index.d.ts', import.meta.url), "export * from './types/index.js'\n")
writeFileSync(new URL('../dist/channel.d.ts', import.meta.url), "export * from './types/channel-full.js'\n")
