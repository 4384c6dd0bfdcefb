// Opening the configured store for one-shot commands (sites, later report/deals/spend).

import { loadConfig, type Config, type ConfigFlags } from '../config.js'
import { openStore } from '../store/index.js'
import type { Store } from '../store/types.js'

/** The flags every one-shot command takes to find its store. */
export const STORE_OPTIONS = { data: { type: 'string' }, 'database-url': { type: 'string' } } as const

export async function withStore<T>(flags: ConfigFlags, fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig(flags)
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl ?? undefined })
  try {
    return await fn(store, config)
  } finally {
    await store.close()
  }
}
