// SQLite → PostgreSQL: every table of a SQLite store copied into a PostgreSQL database that holds
// no other installation's data. Both stores run the same migrations, so their tables and columns
// match by name; rows go over in batches, each committed with ON CONFLICT DO NOTHING on the table's
// key, so a copy killed half-way and run again skips what arrived and fills the rest: no duplicate,
// no gap. Serial IDs are copied as they are and the sequences moved past them. The caller verifies
// counts and reports afterwards (cli/migrate-store.ts).

import Database from 'better-sqlite3'
import type pg from 'pg'
import { clError } from '../errors.js'

/** Rows per INSERT; PostgreSQL takes at most 65,535 parameters a statement. */
const BATCH_PARAMS = 30_000

export interface TableCopy { table: string; rows: number; inserted: number }

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** The store's own tables in SQLite (no views, no SQLite internals, no migration bookkeeping). */
export function sqliteTables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)
}

async function pgColumns(client: pg.PoolClient | pg.Client, table: string): Promise<Map<string, string>> {
  const r = await client.query<{ column_name: string; data_type: string }>(
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1', [table])
  return new Map(r.rows.map((c) => [c.column_name, c.data_type]))
}

/**
 * Refuses a target that holds another installation's sites (a resumed copy of this source is
 * fine: its sites are the source's own).
 */
export async function checkTarget(source: Database.Database, client: pg.Client): Promise<'empty' | 'resume'> {
  const theirs = (await client.query<{ id: string }>('SELECT id FROM sites')).rows.map((r) => r.id)
  if (theirs.length === 0) return 'empty'
  const ours = new Set((source.prepare('SELECT id FROM sites').all() as Array<{ id: string }>).map((r) => r.id))
  const foreign = theirs.filter((id) => !ours.has(id))
  if (foreign.length > 0) throw clError('STORE_NOT_EMPTY', `the PostgreSQL database holds ${foreign.length} site(s) of another installation; migrate into an empty database`)
  return 'resume'
}

/** Copies one table; `onBatch` after each committed batch (progress, and where a test kills the copy). */
export async function copyTable(source: Database.Database, client: pg.Client, table: string, onBatch?: (copy: TableCopy) => void | Promise<void>): Promise<TableCopy> {
  const info = source.prepare(`PRAGMA table_info(${quote(table)})`).all() as Array<{ name: string; pk: number }>
  const target = await pgColumns(client, table)
  if (target.size === 0) throw clError('INTERNAL', `PostgreSQL has no table ${table}: is its schema migrated to the same version?`)
  const columns = info.map((c) => c.name)
  const missing = columns.filter((c) => !target.has(c))
  if (missing.length > 0) throw clError('INTERNAL', `PostgreSQL's ${table} lacks ${missing.join(', ')}: schemas differ`)
  const order = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => quote(c.name))
  const rowsPerBatch = Math.max(1, Math.floor(BATCH_PARAMS / columns.length))
  const select = source.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)}${order.length > 0 ? ` ORDER BY ${order.join(', ')}` : ''}`).raw(true)
  const copy: TableCopy = { table, rows: 0, inserted: 0 }
  // JSON text in SQLite is jsonb in PostgreSQL: sent as text, cast by the column's type.
  const cast = columns.map((c) => (target.get(c) === 'jsonb' ? '::jsonb' : ''))
  let batch: unknown[][] = []
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const params: unknown[] = []
    const values = batch.map((row) => `(${row.map((v, i) => { params.push(v); return `$${params.length}${cast[i]}` }).join(', ')})`)
    const r = await client.query(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`, params)
    copy.rows += batch.length
    copy.inserted += r.rowCount ?? 0
    batch = []
    await onBatch?.(copy)
  }
  for (const row of select.iterate() as IterableIterator<unknown[]>) {
    batch.push(row.map((v) => (typeof v === 'bigint' ? v.toString() : v)))
    if (batch.length >= rowsPerBatch) await flush()
  }
  await flush()
  // Serial IDs were copied as they are: the next one PostgreSQL hands out must follow them.
  if (target.has('id') && info.find((c) => c.name === 'id')?.pk === 1) {
    const seq = (await client.query<{ s: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS s', [table, 'id'])).rows[0].s
    if (seq !== null) await client.query(`SELECT setval($1, GREATEST((SELECT coalesce(max(id), 0) FROM ${quote(table)}), 1))`, [seq])
  }
  return copy
}

/** Rows per table on each side, for the check after the copy. */
export async function countRows(source: Database.Database, client: pg.Client, tables: readonly string[]): Promise<Array<{ table: string; sqlite: number; postgres: number }>> {
  const out = []
  for (const table of tables) {
    const a = Number((source.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n)
    const b = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(table)}`)).rows[0].n)
    out.push({ table, sqlite: a, postgres: b })
  }
  return out
}
