// Site lookups are on every request's hot path, so they are cached briefly. Sites added by the CLI
// in another process appear within the TTL; unknown keys are cached too so a flood of bogus keys
// does not reach the database.

import type { Site, Store } from '../store/types.js'
import { normalizeOrigin } from '../http/origin.js'

interface Entry<T> {
  value: T
  expires: number
}

export class SiteCache {
  private readonly byPublicKey = new Map<string, Entry<Site | null>>()
  private readonly bySecretKeyId = new Map<string, Entry<{ site: Site; secretKeyHash: string } | null>>()
  private origins: Entry<Set<string>> | null = null
  private originsLoading: Promise<Set<string>> | null = null

  constructor(private readonly store: Store, private readonly ttlMs = 5_000, private readonly maxEntries = 10_000) {}

  async byPublic(publicKey: string): Promise<Site | null> {
    return this.cached(this.byPublicKey, publicKey, () => this.store.getSiteByPublicKey(publicKey))
  }

  async bySecretId(keyId: string): Promise<{ site: Site; secretKeyHash: string } | null> {
    return this.cached(this.bySecretKeyId, keyId, () => this.store.getSiteBySecretKeyId(keyId))
  }

  /** True when any site allows this origin (CORS preflights carry no site key). */
  async isKnownOrigin(origin: string): Promise<boolean> {
    const normalized = normalizeOrigin(origin)
    if (normalized === null) return false
    const now = Date.now()
    if (this.origins && this.origins.expires > now) return this.origins.value.has(normalized)
    this.originsLoading ??= this.store.listSites().then((sites) => {
      const set = new Set<string>()
      for (const site of sites) for (const o of site.origins) {
        const n = normalizeOrigin(o)
        if (n) set.add(n)
      }
      this.origins = { value: set, expires: Date.now() + this.ttlMs }
      return set
    }).finally(() => { this.originsLoading = null })
    return (await this.originsLoading).has(normalized)
  }

  /** Forget everything (after this process changes a site). */
  clear(): void {
    this.byPublicKey.clear()
    this.bySecretKeyId.clear()
    this.origins = null
  }

  private async cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now()
    const hit = map.get(key)
    if (hit && hit.expires > now) return hit.value
    const value = await load()
    if (map.size >= this.maxEntries) map.clear()
    map.set(key, { value, expires: now + (value === null ? Math.min(this.ttlMs, 1_000) : this.ttlMs) })
    return value
  }
}
