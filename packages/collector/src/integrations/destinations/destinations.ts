// A site's ad-platform destinations, for every platform alike: added with their options
// validated by the adapter, secret options encrypted (integration subkey, crypto.ts) and a feed's
// password kept only as a hash; loaded back with the secrets decrypted for the delivery worker.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { nanoid } from 'nanoid'
import { clError } from '../../errors.js'
import { decrypt, encrypt } from '../../identity/crypto.js'
import { isStage } from '../../outcomes/stages.js'
import type { DestinationRecord, Site, Stage, Store } from '../../store/types.js'
import type { RawOptions } from '../types.js'
import { isFeedAdapter, type ConversionAction, type Destination, type DestinationAdapter } from './adapter.js'
import type { DestinationRegistry } from './plan.js'
import { destinationRegistry } from './registry.js'

export const MAX_CONVERSION_NAME = 100

/** Where the platform downloads a feed destination's CSV, under the collector's base path. */
export const feedPath = (id: string): string => `/v1/feeds/${id}.csv`

/**
 * `--send` values → stage mapping. `STAGE=NAME[:VALUE]`: the text after the last colon is the
 * value when it looks like a number (else it belongs to the name); no value sends the deal amount.
 */
export function parseSend(values: readonly string[]): Partial<Record<Stage, ConversionAction>> {
  if (values.length === 0) throw clError('BAD_SEND', 'at least one --send STAGE=NAME[:VALUE] is required, e.g. --send won="Closed deal"')
  const out: Partial<Record<Stage, ConversionAction>> = {}
  for (const raw of values) {
    const eq = raw.indexOf('=')
    const stage = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase()
    if (eq < 0) throw clError('BAD_SEND', `--send "${raw.slice(0, 60)}" must be STAGE=NAME[:VALUE], e.g. sql="Qualified lead":100`)
    if (!isStage(stage)) throw clError('BAD_SEND', `--send "${raw.slice(0, 60)}": "${stage.slice(0, 20)}" is not a stage (lead, mql, sql, opportunity, won, lost)`)
    let name = raw.slice(eq + 1)
    let value: number | null = null
    const colon = name.lastIndexOf(':')
    if (colon >= 0 && /^\s*[-+]?[\d.,]*\s*$/.test(name.slice(colon + 1))) {
      const v = name.slice(colon + 1).trim()
      if (!/^\d+(\.\d+)?$/.test(v)) throw clError('BAD_SEND', `--send "${raw.slice(0, 60)}": the value "${v.slice(0, 20)}" must be a number of at least 0 such as 100 or 99.50`)
      value = Number(v)
      name = name.slice(0, colon)
    }
    name = name.trim()
    if (name === '' || name.length > MAX_CONVERSION_NAME) throw clError('BAD_SEND', `--send "${raw.slice(0, 60)}": the conversion name must be 1 to ${MAX_CONVERSION_NAME} characters`)
    if (out[stage] !== undefined) throw clError('BAD_SEND', `--send names the stage "${stage}" twice`)
    out[stage] = { name, value }
  }
  return out
}

const sha256 = (v: string): string => createHash('sha256').update(v).digest('hex')

export interface AddedDestination {
  record: DestinationRecord
  /** A feed's HTTP Basic credentials: shown once, stored only hashed. */
  feed: { user: string; password: string } | null
}

export async function addDestination(
  store: Store, integrationKey: Buffer,
  input: { site: Site; kind: string; options: RawOptions; send: readonly string[]; now?: number },
  registry: DestinationRegistry = destinationRegistry,
): Promise<AddedDestination> {
  const adapter = registry.get(input.kind)
  const send = parseSend(input.send)
  // Validates the platform's options before anything is stored (throws CL_ERR_BAD_CONFIG).
  adapter.parseOptions(input.options)
  const stored: Record<string, string | boolean> = {}
  for (const [name, value] of Object.entries(input.options)) {
    if (value === undefined) continue
    stored[name] = adapter.secretOptions.includes(name) && typeof value === 'string' ? encrypt(value, integrationKey) : value
  }
  const id = `dst_${nanoid(16)}`
  const feed = isFeedAdapter(adapter) ? { user: id, password: randomBytes(24).toString('base64url') } : null
  const record = await store.addDestination({
    id, siteId: input.site.id, kind: adapter.kind, options: stored, send,
    feedUser: feed?.user ?? null, feedSecretHash: feed ? sha256(feed.password) : null, createdAt: input.now ?? Date.now(),
  })
  return { record, feed }
}

export interface LoadedDestination {
  record: DestinationRecord
  adapter: DestinationAdapter
  destination: Destination<unknown>
}

/** The destination with its secrets decrypted and its options parsed; throws for a kind this build lacks. */
export function loadDestination(record: DestinationRecord, integrationKey: Buffer, registry: DestinationRegistry = destinationRegistry): LoadedDestination {
  const adapter = registry.get(record.kind)
  const raw: Record<string, string | boolean> = {}
  for (const [name, value] of Object.entries(record.options)) {
    raw[name] = adapter.secretOptions.includes(name) && typeof value === 'string' ? decrypt(value, integrationKey) : value
  }
  return { record, adapter, destination: { id: record.id, siteId: record.siteId, kind: adapter.kind, options: adapter.parseOptions(raw), send: record.send } }
}

/** HTTP Basic credentials against a feed's: constant-time on the password's hash. */
export function feedCredentialsMatch(record: DestinationRecord, user: string, password: string): boolean {
  if (record.feedUser === null || record.feedSecretHash === null || user !== record.feedUser) return false
  const a = Buffer.from(sha256(password), 'hex')
  const b = Buffer.from(record.feedSecretHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}
