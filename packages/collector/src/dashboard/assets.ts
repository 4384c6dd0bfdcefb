// The bundled client (scripts/build-dashboard.mjs → dist/dashboard/assets), read once into memory.
// Looked up next to the compiled plugin (dist/dashboard/assets) and, when running from source
// (tests, tsx), in the package's dist/.

import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface Asset {
  body: Buffer
  type: string
  etag: string
  /** Content-hashed chunk names never change content, so they may be cached for good. */
  immutable: boolean
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' }

export function findAssetsDir(): string | null {
  for (const rel of ['./assets/', '../../dist/dashboard/assets/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(`${dir}main.js`)) return dir
  }
  return null
}

export function loadAssets(dir: string | null): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  if (!dir) return assets
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'))
    const type = TYPES[ext]
    if (!type) continue
    const body = readFileSync(`${dir}/${name}`)
    assets.set(name, {
      body, type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: name.startsWith('chunk-'),
    })
  }
  return assets
}
