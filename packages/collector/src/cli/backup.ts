// `closeloop backup --to FILE` and `closeloop restore --from FILE --data DIR [--force]`: an online,
// consistent copy of a SQLite store with the key it needs, and its restore (store/sqlite/backup.ts).
// A PostgreSQL store is backed up with PostgreSQL's own tools.

import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { clError, withHint } from '../errors.js'
import { SECRET_KEY_FILE } from '../identity/crypto.js'
import { readBackupHeader, restoreBackup, writeBackup } from '../store/sqlite/backup.js'
import { SQLITE_FILE } from '../store/index.js'
import { requireStore, STORE_OPTIONS } from './store.js'

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`

export async function backup(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...STORE_OPTIONS, to: { type: 'string' } } })
  if (!values.to) throw clError('USAGE', '--to FILE is required')
  const config = loadConfig(values)
  if (config.databaseUrl !== null) {
    throw withHint(clError('USAGE', 'backup copies a SQLite store; this one is PostgreSQL'), 'use pg_dump (docs/deploy.md), and keep CLOSELOOP_SECRET_KEY with it')
  }
  requireStore(config)
  const keyFile = join(config.dataDir, SECRET_KEY_FILE)
  const fromEnv = process.env.CLOSELOOP_SECRET_KEY
  const key = fromEnv !== undefined && fromEnv !== '' ? `${fromEnv}\n` : existsSync(keyFile) ? readFileSync(keyFile, 'utf8') : null
  if (key === null) throw clError('FILE_NOT_FOUND', `no ${SECRET_KEY_FILE} in ${resolve(config.dataDir)} and no CLOSELOOP_SECRET_KEY: a backup without the key cannot decrypt its e-mails`)
  const t = performance.now()
  const header = await writeBackup(join(config.dataDir, SQLITE_FILE), key, values.to)
  const seconds = ((performance.now() - t) / 1000).toFixed(1)
  process.stdout.write(`Backup written to ${values.to} (${mb(header.parts[0].bytes)} database, schema ${header.schemaVersion}, sha256 ${header.parts[0].sha256.slice(0, 16)}…) in ${seconds} s.\n` +
    'It holds the secret key: keep it as safe as the server.\n')
  return 0
}

export async function restore(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { data: { type: 'string' }, from: { type: 'string' }, force: { type: 'boolean' } } })
  if (!values.from) throw clError('USAGE', '--from FILE is required')
  if (!values.data) throw clError('USAGE', '--data DIR is required: the folder to restore into')
  readBackupHeader(values.from)
  const t = performance.now()
  const header = await restoreBackup(values.from, values.data, { force: values.force === true, dbName: SQLITE_FILE, keyName: SECRET_KEY_FILE })
  const seconds = ((performance.now() - t) / 1000).toFixed(1)
  process.stdout.write(`Restored the backup of ${new Date(header.createdAt).toISOString()} into ${resolve(values.data)} (${mb(header.parts[0].bytes)}, checksums and integrity ok) in ${seconds} s.\n` +
    `Start it with: closeloop serve --data ${resolve(values.data)}\n`)
  return 0
}

export const run = backup
