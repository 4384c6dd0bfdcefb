// Erasure leaves nothing of the person behind. SQLite: after POST /v1/privacy/erase the database file
// and its WAL no longer contain the person's e-mail, phone, their keyed match keys (nor, ever, the
// plain SHA-256 of either) or their visitor
// ID — not in live rows, not in freed pages (secure_delete), not in the WAL (truncated after the
// erase), not in rejected-event rows — and still none after a clean shutdown. PostgreSQL: no row of
// any table holds them (deleted rows are VACUUM's business, as for any PostgreSQL data).

import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/http/app.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { matchHash, normalizeEmail, normalizePhone } from '../../src/identity/match-keys.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore, SQLITE_FILE } from '../../src/store/index.js'
import { PostgresStore } from '../../src/store/postgres/store.js'
import type { Store } from '../../src/store/types.js'
import { collect, ORIGIN, pageEvent, secret, tempDir, visitorId, type TestServer } from './helpers.js'

const PG_URL = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const EMAIL = 'Erased.Person@corp-example.com'
const PHONE = '+14155550177'
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => { for (const c of cleanups) await c() })

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** What an attacker holding the data would look for, each with a name for the failure message. */
function traces(vid: string, matchKey: Buffer): Array<[string, string]> {
  const email = normalizeEmail(EMAIL) as string
  const phone = normalizePhone(PHONE) as string
  return [
    ['e-mail', email], ['e-mail as sent', EMAIL], ['e-mail in a URL', encodeURIComponent(email)],
    ['e-mail match key', matchHash(email, matchKey)], ['e-mail SHA-256', sha256(email)], ['phone', phone], ['phone digits', phone.slice(1)],
    ['phone match key', matchHash(phone, matchKey)], ['phone SHA-256', sha256(phone)], ['visitor ID', vid],
  ]
}

interface Kind {
  name: string
  open(dir: string): Promise<{ store: Store; contents(): Promise<string>; afterClose?(): Promise<string> }>
}

const KINDS: Kind[] = [
  {
    name: 'SQLite (file bytes)',
    async open(dir) {
      const store = await openStore({ dataDir: dir })
      const bytes = async () => {
        const base = join(dir, SQLITE_FILE)
        return [base, `${base}-wal`, `${base}-journal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('\n')
      }
      return { store, contents: bytes, afterClose: bytes }
    },
  },
  {
    name: 'PostgreSQL (every row of every table)',
    async open() {
      const schema = `cl_erase_${randomBytes(6).toString('hex')}`
      const admin = new pg.Client({ connectionString: PG_URL })
      await admin.connect()
      await admin.query(`CREATE SCHEMA ${schema}`)
      cleanups.push(async () => { await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await admin.end() })
      const store = new PostgresStore({ connectionString: PG_URL, schema })
      await store.migrate()
      const rows = async () => {
        const tables = await admin.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, [schema])
        const out: string[] = []
        for (const { t } of tables.rows) out.push(...(await admin.query<{ r: string }>(`SELECT x::text AS r FROM ${schema}."${t}" x`)).rows.map((r) => r.r))
        return out.join('\n')
      }
      return { store, contents: rows }
    },
  },
]

describe.each(KINDS)('erasure on $name', (kind) => {
  it('leaves none of the person behind, and keeps everyone else', async () => {
    const dir = tempDir('closeloop-erase-')
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
    const { store, contents, afterClose } = await kind.open(dir)
    const { site, secretKey } = await createSite(store, { name: 'Erase', origins: [ORIGIN], cookieDomain: null })
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    const app = await buildApp({ store, keys, config: {} })
    await app.listen({ port: 0, host: '127.0.0.1' })
    let closed = false
    cleanups.unshift(async () => { if (!closed) await app.close() })
    const address = app.server.address() as { port: number }
    const server = { url: `http://127.0.0.1:${address.port}`, dir, app, store, site, pk: site.publicKey, sk: secretKey } as TestServer

    const vid = visitorId()
    const bystander = visitorId()
    await collect(server, [
      pageEvent(vid, { touch: { source: 'google', medium: 'cpc', campaign: 'spring' } }),
      pageEvent(bystander, { touch: { source: 'bing', medium: 'cpc' } }),
    ])
    // A rejected event of theirs keeps the request as sent: their visitor ID, phone and e-mail.
    const bad = await collect(server, [{ ...pageEvent(vid), type: 'bogus', props: { phone: PHONE, email: EMAIL } }])
    expect(bad.body.rejected).toHaveLength(1)
    expect((await secret(server, '/v1/identify', { visitorId: vid, email: EMAIL, phone: PHONE })).status).toBe(200)
    expect((await secret(server, '/v1/deals', { dealId: 'erase-deal', email: EMAIL, stage: 'won', amount: 700 })).status).toBe(200)

    // Before the erase the traces are there: the check can see them.
    const before = await contents()
    // (The raw phone and e-mail in the rejected event were redacted on the way in.)
    for (const [name, value] of traces(vid, keys.matchKey).filter(([n]) => n.endsWith('match key') || n === 'visitor ID')) expect(before, name).toContain(value)
    // Only keyed: the plain SHA-256 an ad platform gets is never stored.
    for (const [name, value] of traces(vid, keys.matchKey).filter(([n]) => n.endsWith('SHA-256'))) expect(before.includes(value), name).toBe(false)

    const erased = await secret(server, '/v1/privacy/erase', { email: EMAIL })
    expect(erased.status).toBe(200)
    expect(erased.body.erased).toMatchObject({ leads: 1, deals: 1 })
    const after = await contents()
    for (const [name, value] of traces(vid, keys.matchKey)) expect(after.includes(value), `${name} still held after the erase`).toBe(false)
    expect(after).toContain(bystander)

    // A clean shutdown (the app closes its store) changes nothing of that.
    await app.close()
    closed = true
    if (afterClose) {
      const shut = await afterClose()
      for (const [name, value] of traces(vid, keys.matchKey)) expect(shut.includes(value), `${name} in the files after shutdown`).toBe(false)
      expect(shut).toContain(bystander)
    }
  })
})
