// `closeloop doctor`: checks a deployment and says what is wrong in plain words — the data folder
// and its permissions, the secret key, the database (integrity, reachability, schema version), free
// disk, the server clock against the last events, allowed origins, and the script served under the
// public URL. Read-only: nothing is migrated or created. Exit 1 when any check fails.

import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { toClError } from '../errors.js'
import { parseMasterKey, SECRET_KEY_FILE } from '../identity/crypto.js'
import { SQLITE_FILE } from '../store/index.js'
import { postgresHealth, sqliteHealth, type StoreHealth } from '../store/health.js'
import { requireStore, STORE_OPTIONS } from './store.js'

type Level = 'ok' | 'warn' | 'fail'
interface Finding { level: Level; what: string; fix?: string }

/** Below either, the disk is called low. */
const LOW_DISK_BYTES = 1e9
const LOW_DISK_SHARE = 0.05
/** A server clock this far behind the newest stored event has gone backwards. */
const CLOCK_SLACK_MS = 60_000

function permissions(dir: string, out: Finding[]): void {
  const mode = statSync(dir).mode & 0o777
  if ((mode & 0o077) !== 0) out.push({ level: 'warn', what: `data folder ${dir} is readable by others (mode ${mode.toString(8)})`, fix: `chmod 700 ${dir}` })
  else out.push({ level: 'ok', what: `data folder ${dir} is owner-only` })
  for (const name of [SQLITE_FILE, `${SQLITE_FILE}-wal`, SECRET_KEY_FILE]) {
    const f = join(dir, name)
    if (!existsSync(f)) continue
    const m = statSync(f).mode & 0o777
    if ((m & 0o077) !== 0) out.push({ level: 'fail', what: `${name} is readable by others (mode ${m.toString(8)}): it holds personal data or the key`, fix: `chmod 600 ${f}` })
  }
}

function secretKey(dir: string, leads: number, out: Finding[]): void {
  const env = process.env.CLOSELOOP_SECRET_KEY
  if (env !== undefined && env !== '') {
    out.push(parseMasterKey(env) ? { level: 'ok', what: 'secret key from CLOSELOOP_SECRET_KEY' } : { level: 'fail', what: 'CLOSELOOP_SECRET_KEY is not 32 bytes (64 hex characters or base64)' })
    return
  }
  const f = join(dir, SECRET_KEY_FILE)
  if (!existsSync(f)) {
    out.push(leads > 0
      ? { level: 'fail', what: `no ${SECRET_KEY_FILE} in ${dir} and no CLOSELOOP_SECRET_KEY: the ${leads} stored lead(s)' e-mails cannot be read`, fix: 'restore the key from your backup (closeloop restore)' }
      : { level: 'warn', what: `no ${SECRET_KEY_FILE} in ${dir} yet: serve creates one on first start`, fix: 'back it up with the data (closeloop backup does)' })
    return
  }
  out.push(parseMasterKey(readFileSync(f, 'utf8')) ? { level: 'ok', what: `secret key ${f}` } : { level: 'fail', what: `${f} does not hold a 32-byte key` })
}

function disk(dir: string, out: Finding[]): void {
  const s = statfsSync(dir)
  const free = s.bavail * s.bsize
  const share = free / (s.blocks * s.bsize)
  const gb = (free / 1e9).toFixed(1)
  if (free < LOW_DISK_BYTES || share < LOW_DISK_SHARE) out.push({ level: 'warn', what: `only ${gb} GB (${(share * 100).toFixed(0)}%) free on the data folder's disk`, fix: 'free space or move --data: a full disk stops every write' })
  else out.push({ level: 'ok', what: `${gb} GB free on the data folder's disk` })
}

function database(h: StoreHealth, where: string, out: Finding[]): void {
  out.push(h.integrity === 'ok' ? { level: 'ok', what: `${where}: integrity check passed` } : { level: 'fail', what: `${where}: integrity check failed: ${h.integrity.slice(0, 300)}`, fix: 'restore the last backup (closeloop restore)' })
  if (h.schemaVersion > h.latestSchema) out.push({ level: 'fail', what: `schema version ${h.schemaVersion} is newer than this build knows (${h.latestSchema}): a newer Closeloop wrote it`, fix: 'run the newer version, or restore a backup taken before the upgrade' })
  else if (h.schemaVersion < h.latestSchema) out.push({ level: 'warn', what: `schema version ${h.schemaVersion}; this build migrates it to ${h.latestSchema} on start` })
  else out.push({ level: 'ok', what: `schema version ${h.schemaVersion} (current)` })
  if (h.lastReceivedAt !== null && h.lastReceivedAt > Date.now() + CLOCK_SLACK_MS) {
    out.push({ level: 'fail', what: `the server clock is ${Math.round((h.lastReceivedAt - Date.now()) / 1000)} s behind the newest stored event: it went backwards`, fix: 'fix the clock (timedatectl set-ntp true); times decide sessions, touches and windows' })
  } else if (h.lastReceivedAt !== null) out.push({ level: 'ok', what: 'server clock is not behind the stored events' })
  for (const site of h.sites) {
    const plain = site.origins.filter((o) => o.startsWith('http://') && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(o))
    if (plain.length > 0) out.push({ level: 'warn', what: `site "${site.name}" allows origins without https: ${plain.join(', ')}`, fix: `closeloop sites update --name "${site.name}" --origin https://…` })
  }
}

async function script(publicUrl: string, out: Finding[]): Promise<void> {
  const url = `${publicUrl.replace(/\/+$/, '')}/closeloop.js`
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
    const type = res.headers.get('content-type') ?? ''
    if (res.status === 200 && /javascript/.test(type)) out.push({ level: 'ok', what: `the script is served at ${url}` })
    else out.push({ level: 'fail', what: `${url} answered ${res.status} ${type}: the script tag would not load`, fix: 'check --public-url and --base-path, and the proxy in front' })
  } catch (err) {
    out.push({ level: 'fail', what: `${url} is unreachable: ${(err as Error).message}`, fix: 'is serve running, and does the proxy forward to it?' })
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...STORE_OPTIONS, 'public-url': { type: 'string' } } })
  const config = loadConfig(values)
  const out: Finding[] = []
  if (config.databaseUrl !== null) {
    try {
      database(await postgresHealth(config.databaseUrl), 'PostgreSQL', out)
    } catch (err) {
      const e = toClError(err)
      out.push({ level: 'fail', what: e.message, fix: 'check --database-url and that the server runs' })
    }
  } else {
    requireStore(config)
    const dir = resolve(config.dataDir)
    const health = await sqliteHealth(join(dir, SQLITE_FILE))
    permissions(dir, out)
    secretKey(dir, health.leads, out)
    disk(dir, out)
    database(health, 'SQLite', out)
  }
  if (config.publicUrl !== null) await script(config.publicUrl, out)
  const label: Record<Level, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' }
  for (const f of out) process.stdout.write(`${label[f.level]}  ${f.what}${f.fix ? `\n      → ${f.fix}` : ''}\n`)
  const failed = out.filter((f) => f.level === 'fail').length
  const warned = out.filter((f) => f.level === 'warn').length
  process.stdout.write(failed > 0 ? `${failed} problem(s) to fix, ${warned} warning(s).\n` : `All checks passed${warned > 0 ? ` (${warned} warning(s))` : ''}.\n`)
  return failed > 0 ? 1 : 0
}
