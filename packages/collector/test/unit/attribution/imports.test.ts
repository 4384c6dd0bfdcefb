// The engine is pure: nothing under src/attribution may import storage, HTTP or the client error
// registry (src/errors.ts). Scans every import and re-export specifier, type-only ones included.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url))
const ENGINE = join(SRC, 'attribution')
const FORBIDDEN = ['store/', 'http/', 'errors.ts']

// `import … from 'x'`, `export … from 'x'`, `import 'x'` and `import('x')`, across line breaks.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

/** Every specifier of a file, relative ones resolved to a path under src/ (`.js` read as `.ts`). */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  return [...text.matchAll(SPECIFIER)].map(([, spec]) =>
    spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec)
}

describe('attribution/ imports', () => {
  const files = sources(ENGINE)

  it('finds the engine files and their imports', () => {
    expect(files.length).toBeGreaterThan(10)
    expect(importsOf(join(ENGINE, 'engine.ts'))).toContain('attribution/conversions.ts')
    // The scan itself would catch each form of a forbidden import.
    const probe = join(ENGINE, 'models', 'probe.ts')
    expect(importsOf(probe, [
      "import type { Stage } from '../../store/types.js'",
      "export { x } from\n  '../../http/app.js'",
      "const e = await import('../../errors.js')",
    ].join('\n'))).toEqual(['store/types.ts', 'http/app.ts', 'errors.ts'])
  })

  it('imports nothing from store/, http/ or errors.ts', () => {
    const offending = files.flatMap((file) => importsOf(file)
      .filter((target) => FORBIDDEN.some((f) => (f.endsWith('/') ? target.startsWith(f) : target === f)))
      .map((target) => `${relative(SRC, file)} -> ${target}`))
    expect(offending).toEqual([])
  })
})
