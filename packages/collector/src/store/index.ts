// Picks the store from configuration: PostgreSQL when a database URL is given (scale-out), else
// the SQLite file under the data directory. The returned store is migrated and ready.

import { join } from 'node:path'
import { SqliteStore } from './sqlite/store.js'
import type { Store } from './types.js'
import type { DestinationRegistry } from '../integrations/destinations/plan.js'

export type { Store } from './types.js'
export { SqliteStore } from './sqlite/store.js'

export const SQLITE_FILE = 'closeloop.sqlite'
export const DEFAULT_DATA_DIR = './closeloop-data'

export interface OpenStoreOptions {
  /** Directory of the SQLite file (default ./closeloop-data). */
  dataDir?: string
  /** postgres://… — when set, PostgreSQL is used instead of SQLite. */
  databaseUrl?: string
  /** Destination adapters that decide which conversion rows a stage change queues (default: this build's; tests add doubles). */
  destinations?: DestinationRegistry
}

export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  let store: Store
  if (options.databaseUrl) {
    // Loaded only when asked for, so a SQLite-only install never touches the pg driver.
    const { PostgresStore } = await import('./postgres/store.js')
    store = new PostgresStore({ connectionString: options.databaseUrl, destinations: options.destinations })
  } else {
    store = new SqliteStore({ file: join(options.dataDir ?? DEFAULT_DATA_DIR, SQLITE_FILE), destinations: options.destinations })
  }
  try {
    await store.migrate()
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
  return store
}
