// Creating sites (CLI `sites add`, `demo`): validate, generate keys, store only the secret's hash.

import { MAX_RETENTION_DAYS } from './retention.js'
import { clError, withHint } from '../errors.js'
import { generatePublicKey, generateSecretKey } from './keys.js'
import { normalizeOrigin } from '../http/origin.js'
import { isStage, stageKey } from '../outcomes/stages.js'
import { STAGES, type Site, type SiteSettings, type Stage, type Store } from '../store/types.js'

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
    if (origin === null) {
      // "shop.example" is the common slip: an origin names its scheme.
      const withScheme = raw.includes('://') ? null : normalizeOrigin(`https://${raw.trim()}`)
      throw withHint(clError('BAD_ORIGIN', `not an http(s) origin: ${raw.slice(0, 100)}`), withScheme ? `did you mean "${withScheme}"?` : '')
    }
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

export interface SiteUpdate {
  /** Replaces the allowed origins when given. */
  origins?: string[]
  /** '' or 'none' removes it. */
  cookieDomain?: string
  currency?: string
  /** ISO 3166 alpha-2 region for phone numbers without a country code. */
  phoneRegion?: string
  /** `CRM stage name=closeloop stage` pairs, added to (or replacing names in) the site's mapping. */
  stages?: string[]
  /** Replaces the other own domains whose referrals are not touches. */
  internalDomains?: string[]
  /** Store events from bot user agents (testing with a headless browser); false drops them again. */
  keepBots?: boolean
  /** Days raw events and touches are kept ("keep" or 0: forever). */
  retentionDays?: string
}

/** Validates and applies a settings change (CLI `sites update`); only what is given changes. */
export async function updateSite(store: Store, name: string, u: SiteUpdate): Promise<Site> {
  const site = await store.getSiteByName(name)
  if (!site) throw clError('SITE_NOT_FOUND', `No site named "${name.slice(0, 100)}"`)
  const clearDomain = u.cookieDomain !== undefined && /^(none)?$/i.test(u.cookieDomain.trim())
  // The same rules as for a new site, applied to the merged values.
  const valid = validateSiteInput({
    name: site.name,
    origins: u.origins ?? site.origins,
    cookieDomain: clearDomain ? null : (u.cookieDomain ?? site.cookieDomain),
    currency: u.currency ?? site.currency,
  })
  const settings: SiteSettings = { ...site.settings }
  if (u.keepBots === true) settings.keepBots = true
  else if (u.keepBots === false) delete settings.keepBots
  if (u.retentionDays !== undefined) {
    const v = u.retentionDays.trim().toLowerCase()
    if (v === 'keep' || v === '0') delete settings.retentionDays
    else if (/^\d{1,5}$/.test(v) && Number(v) <= MAX_RETENTION_DAYS) settings.retentionDays = Number(v)
    else throw clError('BAD_CONFIG', `--retention-days takes a number of days from 1 to ${MAX_RETENTION_DAYS}, or "keep"`)
  }
  if (u.phoneRegion !== undefined) {
    const region = u.phoneRegion.trim().toUpperCase()
    if (!/^[A-Z]{2}$/.test(region)) throw clError('BAD_CONFIG', 'phone region must be an ISO 3166 alpha-2 code such as GB')
    settings.phoneRegion = region
  }
  if (u.stages?.length) {
    const mapping: Record<string, Stage> = { ...settings.stageMapping }
    for (const pair of u.stages) {
      const at = pair.lastIndexOf('=')
      const crm = pair.slice(0, at).trim()
      const stage = pair.slice(at + 1).trim().toLowerCase()
      if (at < 1 || crm === '' || crm.length > 100 || !isStage(stage)) throw clError('BAD_CONFIG', `--stage takes "CRM name=${STAGES.join('|')}", not "${pair.slice(0, 100)}"`)
      for (const k of Object.keys(mapping)) if (stageKey(k) === stageKey(crm)) delete mapping[k]
      mapping[crm] = stage
    }
    settings.stageMapping = mapping
  }
  if (u.internalDomains) {
    const domains = u.internalDomains.map((d) => d.trim().toLowerCase()).filter(Boolean)
    for (const d of domains) if (!/^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d)) throw clError('BAD_CONFIG', `not a domain: ${d.slice(0, 100)}`)
    settings.internalDomains = domains
  }
  return store.updateSite(site.id, { origins: valid.origins, cookieDomain: valid.cookieDomain, currency: valid.currency, settings })
}
