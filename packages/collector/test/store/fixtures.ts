// Test data builders for the store contract and benchmarks (no vitest import, so scripts can use them).

import { createHash, randomBytes } from 'node:crypto'
import type { IdentifyInput, IngestEvent, Site, Store, Touch } from '../../src/store/types.js'

export const sha = (v: string): string => createHash('sha256').update(v).digest('hex')
export const rid = (n = 21): string => randomBytes(n).toString('base64url').slice(0, n)

export function emailKey(email: string): IdentifyInput['keys'][number] {
  return { kind: 'email', hash: sha(email) }
}
export function phoneKey(phone: string): IdentifyInput['keys'][number] {
  return { kind: 'phone', hash: sha(phone) }
}
export function externalKey(id: string): IdentifyInput['keys'][number] {
  return { kind: 'external', hash: sha(id) }
}

export async function makeSite(store: Store, name = `site-${rid(8)}`): Promise<{ site: Site; keyId: string; keyHash: string }> {
  const keyId = rid(8)
  const secret = `sk_${keyId}${rid(32)}`
  const site = await store.createSite({
    name,
    origins: ['https://example.com'],
    publicKey: `pk_${rid(21)}`,
    secretKeyId: keyId,
    secretKeyHash: sha(secret),
  })
  return { site, keyId, keyHash: sha(secret) }
}

export function touch(ts: number, source = 'google', medium = 'cpc', extra: Partial<Touch> = {}): Touch {
  const channel = medium === '(none)' ? 'Direct' : medium === 'cpc' ? 'Paid Search' : 'Referral'
  return { ts, source, medium, channel, campaign: 'spring', ...extra }
}

export function event(siteId: string, visitorId: string, ts: number, extra: Partial<IngestEvent> = {}): IngestEvent {
  return {
    siteId, id: rid(), type: 'page', ts, receivedAt: ts, visitorId, sessionId: `s-${visitorId}`,
    url: 'https://example.com/', ...extra,
  }
}
