// Opening the configured store from the CLI. Only `serve`, `demo` and `sites add` may start a new
// store, and they say so; every other command refuses a data folder without a store (a mistyped
// --data must not silently yield an empty store and a fresh secret key) and creates nothing.

import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig, type Config, type ConfigFlags } from '../config.js'
import { clError, withHint } from '../errors.js'
import { loadInstallKeys, type InstallKeys } from '../identity/crypto.js'
import { keyMatchHashes } from '../identity/match-keys.js'
import { openStore, SQLITE_FILE } from '../store/index.js'
import type { Site, Store } from '../store/types.js'
import { didYouMean } from '../suggest.js'

/** The flags every one-shot command takes to find its store. */
export const STORE_OPTIONS = { data: { type: 'string' }, 'database-url': { type: 'string' } } as const

/** Whether the configured store exists yet. PostgreSQL counts as existing: its schema is migrated in place. */
export function storeExists(config: Config): boolean {
  return config.databaseUrl !== null || existsSync(join(config.dataDir, SQLITE_FILE))
}

/** Throws CL_ERR_NO_STORE, before anything is created, when the data folder holds no store. */
export function requireStore(config: Config): void {
  if (storeExists(config)) return
  const dir = resolve(config.dataDir)
  throw withHint(clError('NO_STORE', `no Closeloop store (${SQLITE_FILE}) in ${dir}`),
    `check --data or CLOSELOOP_DATA; to start a store there: closeloop sites add --data ${dir} --name N --origin URL, or closeloop serve --data ${dir}`)
}

/** For the commands that may start a store: one line on stderr when they are about to. */
export function announceNewStore(command: string, config: Config): void {
  if (storeExists(config)) return
  process.stderr.write(`closeloop ${command}: no store in ${resolve(config.dataDir)} yet; creating a new one there\n`)
}

export async function withStore<T>(flags: ConfigFlags, fn: (store: Store, config: Config) => Promise<T>, create?: { command: string }): Promise<T> {
  const config = loadConfig(flags)
  if (create) announceNewStore(create.command, config)
  else requireStore(config)
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl ?? undefined })
  try {
    return await fn(store, config)
  } finally {
    await store.close()
  }
}

/** The site a one-shot command names with --site; coded errors when it is missing or unknown. */
export async function siteNamed(store: Store, name: string | undefined): Promise<Site> {
  if (!name) throw clError('USAGE', '--site NAME is required')
  const site = await store.getSiteByName(name)
  if (!site) {
    // Names are exact (case too): point at the near one, or say which there are.
    const names = (await store.listSites()).map((s) => s.name)
    const hint = didYouMean(name, names) || (names.length ? `sites here: ${names.slice(0, 10).map((n) => `"${n}"`).join(', ')}` : 'no site here yet: closeloop sites add')
    throw withHint(clError('SITE_NOT_FOUND', `No site named "${name}"`), hint)
  }
  return site
}

/**
 * The install keys, for a command that computes match keys (erase, deals import, crm sync): the
 * store's older unkeyed match keys are upgraded first, as `serve` does, so nothing keyed is ever
 * written beside them.
 */
export async function installKeys(store: Store, config: Config): Promise<InstallKeys> {
  const keys = loadInstallKeys({ dataDir: config.dataDir })
  await keyMatchHashes(store, keys)
  return keys
}
