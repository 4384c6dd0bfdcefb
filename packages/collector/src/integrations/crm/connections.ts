// A site's CRM connections, for every connector alike: added with their options validated by the
// connector and its secret options encrypted (integration subkey, crypto.ts), loaded back with the
// secrets decrypted for the inbound route, the inbox worker and pulls.

import { randomBytes } from 'node:crypto'
import { nanoid } from 'nanoid'
import { clError } from '../../errors.js'
import { decrypt, encrypt } from '../../identity/crypto.js'
import type { CrmConnectionRecord, CrmOutboxCounts, Site, Store } from '../../store/types.js'
import type { RawOptions } from '../types.js'
import type { CrmAdapter, CrmConnection, CrmKind } from './adapter.js'
import { crmAdapter, crmRegistry } from './registry.js'

/** Options every connector takes, kept beside its own (not secret). */
export const PUBLIC_URL_OPTION = 'public-url'

export interface LoadedConnection {
  record: CrmConnectionRecord
  adapter: CrmAdapter
  connection: CrmConnection<unknown>
}

/** Where the CRM sends webhooks, under the collector's base path (ending in the path token, if any). */
export const inboundPath = (kind: string, id: string, pathToken?: string): string =>
  `/v1/crm/${kind}/${id}${pathToken !== undefined ? `/${pathToken}` : ''}`

/** The connection's inbound path with its path token decrypted: shown once, at `crm add`. */
export function inboundPathOf(record: CrmConnectionRecord, integrationKey: Buffer): string {
  const name = crmAdapter(record.kind).pathTokenOption
  const token = name !== undefined ? record.options[name] : undefined
  return inboundPath(record.kind, record.id, typeof token === 'string' ? decrypt(token, integrationKey) : undefined)
}

function checkPublicUrl(value: string | boolean | undefined): string | undefined {
  if (value === undefined || value === false) return undefined
  const url = typeof value === 'string' ? value.trim().replace(/\/+$/, '') : ''
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) throw clError('BAD_CONFIG', '--public-url must be the http(s) URL the collector is reached at, e.g. https://cl.example.com')
  return url
}

export async function addConnection(
  store: Store, integrationKey: Buffer,
  input: { site: Site; kind: string; options: RawOptions; writeBack: boolean; now?: number },
): Promise<CrmConnectionRecord> {
  const adapter = crmAdapter(input.kind)
  const token = adapter.pathTokenOption
  // A CRM that cannot sign gets a secret URL: 24 random bytes, URL-safe.
  if (token !== undefined && input.options[token] === undefined) input = { ...input, options: { ...input.options, [token]: randomBytes(24).toString('base64url') } }
  // Validates the connector's options before anything is stored (throws CL_ERR_BAD_CONFIG).
  adapter.parseOptions(input.options)
  const publicUrl = checkPublicUrl(input.options[PUBLIC_URL_OPTION])
  const stored: Record<string, string | boolean> = {}
  for (const [name, value] of Object.entries(input.options)) {
    if (value === undefined || name === PUBLIC_URL_OPTION) continue
    stored[name] = adapter.secretOptions.includes(name) && typeof value === 'string' ? encrypt(value, integrationKey) : value
  }
  if (publicUrl !== undefined) stored[PUBLIC_URL_OPTION] = publicUrl
  return store.addCrmConnection({ id: `crm_${nanoid(16)}`, siteId: input.site.id, kind: adapter.kind, options: stored, writeBack: input.writeBack, createdAt: input.now ?? Date.now() })
}

/** The connection with its secrets decrypted and its options parsed; throws for a kind this build lacks. */
export function loadConnection(record: CrmConnectionRecord, integrationKey: Buffer): LoadedConnection {
  const adapter = crmAdapter(record.kind)
  const raw: Record<string, string | boolean> = {}
  for (const [name, value] of Object.entries(record.options)) {
    raw[name] = adapter.secretOptions.includes(name) && typeof value === 'string' ? decrypt(value, integrationKey) : value
  }
  const connection: CrmConnection<unknown> = {
    id: record.id, siteId: record.siteId, kind: adapter.kind as CrmKind, options: adapter.parseOptions(raw), writeBack: record.writeBack,
  }
  return { record, adapter, connection }
}

/** The connection's own public URL option, if any. */
export function publicUrlOf(record: CrmConnectionRecord): string | null {
  const v = record.options[PUBLIC_URL_OPTION]
  return typeof v === 'string' && v !== '' ? v : null
}

/**
 * A connection as `crm list` and `GET /v1/crm/connections` show it: status, never an option value;
 * `outbox`: its write-back rows (Store.crmOutboxCounts), none when absent.
 */
export function connectionStatus(c: CrmConnectionRecord, outbox?: CrmOutboxCounts) {
  // A path token is a secret: shown once by `crm add`, a placeholder here.
  const token = crmRegistry.isKind(c.kind) && crmRegistry.available().includes(c.kind) && crmAdapter(c.kind).pathTokenOption !== undefined ? '{path-token}' : undefined
  return {
    id: c.id, kind: c.kind, writeBack: c.writeBack, inbound: inboundPath(c.kind, c.id, token), createdAt: c.createdAt,
    lastEventAt: c.lastEventAt, lastSyncAt: c.lastSyncAt, errors: c.errors, lastError: c.lastError, lastErrorAt: c.lastErrorAt,
    writeBacks: {
      sent: outbox?.sent ?? 0, pending: outbox?.pending ?? 0, failed: outbox?.failed ?? 0,
      lastError: outbox?.lastError ?? null, lastErrorAt: outbox?.lastErrorAt ?? null,
    },
  }
}
export type ConnectionStatus = ReturnType<typeof connectionStatus>
