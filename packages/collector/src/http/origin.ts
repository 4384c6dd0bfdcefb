// Browser origins: normalised to `scheme://host[:port]` so that configuration written as
// `https://Example.com/` matches the `Origin: https://example.com` a browser sends.

import type { Site } from '../store/types.js'

export function normalizeOrigin(raw: string): string | null {
  if (raw.length > 2048) return null
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  return url.origin
}

export function isOriginAllowed(site: Site, origin: string): boolean {
  const normalized = normalizeOrigin(origin)
  if (normalized === null) return false
  return site.origins.some((allowed) => normalizeOrigin(allowed) === normalized)
}
