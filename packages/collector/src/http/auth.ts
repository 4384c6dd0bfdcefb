// Who is calling: a public key (browser, origin-checked) or a secret key (server; from a browser
// only when its Origin is in the site's list). Both are rate limited per key.

import type { FastifyRequest } from 'fastify'
import { clError } from '../errors.js'
import { isPublicKey, secretKeyId, verifySecretKey } from '../sites/keys.js'
import { isOriginAllowed } from './origin.js'
import type { RateLimiter } from './rate-limit.js'
import type { SiteCache } from '../sites/cache.js'
import type { Site } from '../store/types.js'

export interface AuthDeps {
  sites: SiteCache
  keyLimiter: RateLimiter
  sessionSite?: (request: FastifyRequest) => Promise<Site | null>
}

function checkOrigin(request: FastifyRequest, site: Site): void {
  const origin = request.headers.origin
  // No Origin: a server-side sender (or a same-origin GET), which CORS cannot protect anyway.
  if (origin !== undefined && !isOriginAllowed(site, origin)) throw clError('ORIGIN_NOT_ALLOWED')
}

function limit(deps: AuthDeps, key: string): void {
  const wait = deps.keyLimiter.take(key)
  if (wait > 0) throw clError('RATE_LIMITED', undefined, { retryAfter: wait })
}

export async function authenticatePublic(request: FastifyRequest, deps: AuthDeps, publicKey: string): Promise<Site> {
  if (!isPublicKey(publicKey)) throw clError('UNKNOWN_SITE')
  const site = await deps.sites.byPublic(publicKey)
  if (!site) throw clError('UNKNOWN_SITE')
  checkOrigin(request, site)
  limit(deps, site.publicKey)
  return site
}

export async function authenticateSecret(request: FastifyRequest, deps: AuthDeps): Promise<Site> {
  const header = request.headers.authorization
  // The dashboard reads reports with its session cookie instead of a key (dashboard/plugin.ts).
  if ((header === undefined || header === '') && request.method === 'GET' && deps.sessionSite) {
    const site = await deps.sessionSite(request)
    if (site) return site
  }
  if (header === undefined || header === '') throw clError('MISSING_SECRET_KEY')
  const match = /^Bearer\s+(.*)$/is.exec(header)
  if (!match) throw clError('MISSING_SECRET_KEY')
  return authenticateSecretToken(request, deps, match[1].trim())
}

/** A secret key however it was presented (Bearer here; the Basic user name of a Segment write key). */
export async function authenticateSecretToken(request: FastifyRequest, deps: AuthDeps, token: string): Promise<Site> {
  const keyId = secretKeyId(token)
  if (keyId === null) throw clError('BAD_SECRET_KEY')
  const found = await deps.sites.bySecretId(keyId)
  if (!found || !verifySecretKey(token, found.secretKeyHash)) throw clError('BAD_SECRET_KEY')
  checkOrigin(request, found.site)
  limit(deps, keyId)
  return found.site
}
