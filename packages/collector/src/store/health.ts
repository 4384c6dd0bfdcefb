// What `closeloop doctor` reads from a store, without changing it: no migration runs, SQLite is
// opened read-only. The schema version is the newest applied migration; `latest` is this build's.

import type { ClError } from '../errors.js'

export interface StoreHealth {
  /** 'ok', or what the database's own check found. */
  integrity: string
  schemaVersion: number
  latestSchema: number
  /** Newest event receipt time: a server clock behind it went backwards. */
  lastReceivedAt: number | null
  sites: Array<{ name: string; origins: string[] }>
  /** Leads stored: their e-mails are encrypted with the installation's key. */
  leads: number
}

export async function sqliteHealth(file: string): Promise<StoreHealth> {
  const { default: Database } = await import('better-sqlite3')
  const { SQLITE_MIGRATIONS } = await import('./sqlite/migrations.js')
  const latestSchema = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version))
  let db
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch (err) {
    return { integrity: (err as Error).message, schemaVersion: 0, latestSchema, lastReceivedAt: null, sites: [], leads: 0 }
  }
  try {
    // A badly damaged file fails the check itself (SQLITE_CORRUPT): that is the finding too.
    const integrity = String(db.pragma('quick_check', { simple: true }))
    const version = Number((db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v)
    const last = (db.prepare('SELECT max(received_at) AS t FROM events').get() as { t: number | null }).t
    const leads = Number((db.prepare('SELECT count(*) AS n FROM leads').get() as { n: number }).n)
    const sites = (db.prepare('SELECT name, origins FROM sites ORDER BY name').all() as Array<{ name: string; origins: string }>).map((r) => ({ name: r.name, origins: JSON.parse(r.origins) as string[] }))
    return { integrity, schemaVersion: version, latestSchema, lastReceivedAt: last === null ? null : Number(last), sites, leads }
  } catch (err) {
    return { integrity: (err as Error).message, schemaVersion: 0, latestSchema, lastReceivedAt: null, sites: [], leads: 0 }
  } finally {
    db.close()
  }
}

export async function postgresHealth(url: string, schema?: string): Promise<StoreHealth> {
  const { default: pg } = await import('pg')
  const { POSTGRES_MIGRATIONS } = await import('./postgres/migrations.js')
  const { clError } = await import('../errors.js')
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, ...(schema ? { options: `-c search_path=${schema}` } : {}) })
  try {
    await client.connect()
  } catch (err) {
    throw clError('DATABASE_UNREACHABLE', `PostgreSQL at ${url.replace(/\/\/[^@/]*@/, '//…@')}: ${(err as Error).message}`) as ClError
  }
  try {
    const has = await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS ok")
    if (!has.rows[0].ok) return { integrity: 'ok', schemaVersion: 0, latestSchema: Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version)), lastReceivedAt: null, sites: [], leads: 0 }
    const version = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v)
    const last = (await client.query('SELECT max(received_at) AS t FROM events')).rows[0].t
    const sites = (await client.query('SELECT name, origins FROM sites ORDER BY name')).rows.map((r) => ({ name: String(r.name), origins: (typeof r.origins === 'string' ? JSON.parse(r.origins) : r.origins) as string[] }))
    const leads = Number((await client.query('SELECT count(*) AS n FROM leads')).rows[0].n)
    return { integrity: 'ok', schemaVersion: version, latestSchema: Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version)), lastReceivedAt: last === null ? null : Number(last), sites, leads }
  } finally {
    await client.end()
  }
}
