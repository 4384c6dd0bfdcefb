// `closeloop migrate-store --from-data DIR --to-database-url URL`: moves a SQLite store into an empty
// PostgreSQL database (store/migrate-store.ts), resumable — run it again after an interruption —
// then verifies: every table's row count, and every model's report by channel and by campaign of
// every site, equal on both. Stop `serve` first: what arrives during the copy would be left behind.

import Database from 'better-sqlite3'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { clError } from '../errors.js'
import { CONVERSIONS } from '../attribution/types.js'
import { modelsReport } from '../reports/query.js'
import { checkTarget, copyTable, countRows, sqliteTables } from '../store/migrate-store.js'
import { openStore, SQLITE_FILE } from '../store/index.js'
import type { Store } from '../store/types.js'
import { requireStore } from './store.js'

/** Reports compared as JSON with numbers to 12 significant digits: sums may differ in the last bit. */
const canonical = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v))

async function reportsOf(store: Store): Promise<string[]> {
  const out: string[] = []
  for (const site of await store.listSites()) {
    for (const by of ['channel', 'campaign'] as const) {
      for (const conversion of CONVERSIONS) {
        const r = await modelsReport(store, site, { by, conversion } as Parameters<typeof modelsReport>[2])
        out.push(`${site.name} by ${by}, ${conversion}: ${canonical(r)}`)
      }
    }
  }
  return out
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { 'from-data': { type: 'string' }, 'to-database-url': { type: 'string' } } })
  if (!values['from-data']) throw clError('USAGE', '--from-data DIR is required: the folder of the SQLite store')
  if (!values['to-database-url']) throw clError('USAGE', '--to-database-url URL is required: an empty PostgreSQL database')
  const config = loadConfig({ data: values['from-data'] })
  requireStore(config)
  const url = values['to-database-url']
  const started = performance.now()
  // Both schemas brought to this build's version first: the same tables and columns on each side.
  await (await openStore({ dataDir: config.dataDir })).close()
  const target = await openStore({ databaseUrl: url })
  await target.close()

  const { default: pg } = await import('pg')
  const source = new Database(join(config.dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true })
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const mode = await checkTarget(source, client)
    if (mode === 'resume') process.stderr.write('closeloop migrate-store: the database holds part of this store: resuming (rows already there are skipped)\n')
    // Sites first: site keys refer to them.
    const tables = sqliteTables(source).sort((a, b) => Number(b === 'sites') - Number(a === 'sites'))
    for (const table of tables) {
      const t = performance.now()
      const copy = await copyTable(source, client, table, (c) => { process.stderr.write(`  ${table}: ${c.rows} rows\n`) })
      process.stdout.write(`${table}: ${copy.rows} row(s), ${copy.inserted} new, ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
    }
    // Fresh bulk-loaded tables have no planner statistics: without them the report queries
    // (joins of deals, identities and leads) pick plans that take minutes at a million touches.
    await client.query('ANALYZE')
    const counts = await countRows(source, client, tables)
    const differ = counts.filter((c) => c.sqlite !== c.postgres)
    if (differ.length > 0) throw clError('INTERNAL', `row counts differ after the copy: ${differ.map((c) => `${c.table} ${c.sqlite} vs ${c.postgres}`).join(', ')}`)
  } finally {
    source.close()
    await client.end()
  }

  const t = performance.now()
  const [a, b] = [await openStore({ dataDir: config.dataDir }), await openStore({ databaseUrl: url })]
  try {
    const [ra, rb] = [await reportsOf(a), await reportsOf(b)]
    const first = ra.findIndex((r, i) => r !== rb[i])
    if (first >= 0 || ra.length !== rb.length) throw clError('INTERNAL', `reports differ after the copy: ${(ra[first] ?? '').slice(0, 200)}`)
    process.stdout.write(`Verified: row counts of every table, and ${ra.length} report(s) (every model, by channel and campaign, every conversion) identical, in ${((performance.now() - t) / 1000).toFixed(1)} s.\n`)
  } finally {
    await a.close()
    await b.close()
  }
  process.stdout.write(`Moved ${resolve(config.dataDir)} to PostgreSQL in ${((performance.now() - started) / 1000).toFixed(1)} s. ` +
    `Run every collector with --database-url and CLOSELOOP_SECRET_KEY set to the contents of ${join(resolve(config.dataDir), 'secret.key')}.\n`)
  return 0
}
