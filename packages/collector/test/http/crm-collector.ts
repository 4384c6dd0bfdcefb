// A collector with one CRM connection, as the CRM webhook tests need it: a site and the connection
// written to a fresh store (SQLite in a temporary folder, or PostgreSQL), then `serve` started on
// it with a fast CRM worker (50 ms polls, short backoff) and no scheduled pulls.

import { DEFAULTS, type Config } from '../../src/config.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { addConnection } from '../../src/integrations/crm/connections.js'
import type { CrmKind } from '../../src/integrations/crm/adapter.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore } from '../../src/store/index.js'
import type { CrmConnectionRecord, Site, Store } from '../../src/store/types.js'
import { tempDir } from './helpers.js'

export interface CrmCollector {
  dir: string
  server: RunningServer
  store: Store
  site: Site
  sk: string
  record: CrmConnectionRecord
  /** The install's key for connection secrets (to read the record's options back). */
  integrationKey: Buffer
}

export async function startCrmCollector(input: {
  kind: CrmKind
  options: Record<string, string>
  prefix: string
  databaseUrl?: string | null
  currency?: string
}): Promise<CrmCollector> {
  const dir = tempDir(input.prefix)
  const databaseUrl = input.databaseUrl ?? null
  const setup = await openStore({ dataDir: dir, databaseUrl: databaseUrl ?? undefined })
  const created = await createSite(setup, { name: 'b2b', origins: ['https://shop.example'], cookieDomain: null, ...(input.currency ? { currency: input.currency } : {}) })
  const { integrationKey } = loadInstallKeys({ dataDir: dir, env: {} })
  const record = await addConnection(setup, integrationKey, { site: created.site, kind: input.kind, writeBack: false, options: input.options })
  await setup.close()
  const config: Config = { ...DEFAULTS, dataDir: dir, databaseUrl, port: 0, crmSyncMinutes: 0 }
  const server = await startServer(config, { logger: false, crm: { pollMs: 50, backoff: { baseMs: 50, capMs: 200, giveUpAfterMs: 60_000 } } })
  return { dir, server, store: server.app.closeloop.store, site: created.site, sk: created.secretKey, record, integrationKey }
}
