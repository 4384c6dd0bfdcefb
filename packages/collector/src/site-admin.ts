// Creating sites (CLI `sites add`, `demo`): validate, generate keys, store only the secret's hash.

import { clError } from './errors.js'
import { generatePublicKey, generateSecretKey } from './keys.js'
import { normalizeOrigin } from './origin.js'
import type { Site, Store } from './store/types.js'

export interface SiteInput {
  name: string
  origins: string[]
  cookieDomain?: string | null
  currency?: string
}

export interface CreatedSite {
  site: Site
  /** The whole secret key: shown once, stored only hashed. */
  secretKey: string
}

export function validateSiteInput(input: SiteInput): Required<SiteInput> {
  const name = input.name.trim()
  if (name === '' || name.length > 100) throw clError('BAD_CONFIG', 'site name must be 1–100 characters')
  const origins: string[] = []
  for (const raw of input.origins) {
    const origin = normalizeOrigin(raw)
    if (origin === null) throw clError('BAD_ORIGIN', `not an http(s) origin: ${raw.slice(0, 100)}`)
    if (!origins.includes(origin)) origins.push(origin)
  }
  if (origins.length === 0) throw clError('BAD_ORIGIN', 'at least one --origin is required')
  const cookieDomain = input.cookieDomain?.trim() || null
  if (cookieDomain !== null && !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(cookieDomain)) throw clError('BAD_CONFIG', 'cookie domain must look like .example.com')
  const currency = (input.currency ?? 'USD').trim().toUpperCase()
  if (!/^[A-Z]{3}$/.test(currency)) throw clError('BAD_CONFIG', 'currency must be an ISO 4217 code such as EUR')
  return { name, origins, cookieDomain, currency }
}

export async function createSite(store: Store, input: SiteInput): Promise<CreatedSite> {
  const valid = validateSiteInput(input)
  if (await store.getSiteByName(valid.name)) throw clError('SITE_EXISTS')
  const secret = generateSecretKey()
  const site = await store.createSite({
    ...valid,
    settings: {},
    publicKey: generatePublicKey(),
    secretKeyId: secret.keyId,
    secretKeyHash: secret.hash,
  })
  return { site, secretKey: secret.key }
}
