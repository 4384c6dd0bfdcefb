// `closeloop migrate-store` as a real process: a SQLite store with campaigns, leads, deals, spend,
// an erasure and a CRM connection moved into a fresh PostgreSQL schema; SIGKILLed once in the middle
// of the copy and run again, it finishes with no duplicate and no gap, and verifies every table's
// count and every model's reports; the PostgreSQL store then serves the same figures.

import { rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store/index.js'
import { attributionReport } from '../../src/reports/query.js'
import { cliCommand, expectFailure, parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'
import { BROWSER_UA, tempDir, visitorId } from '../http/helpers.js'
import { touchEvent } from '../http/outcome-helpers.js'

const PG = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `cl_move_${randomBytes(5).toString('hex')}`
const other = `cl_move_${randomBytes(5).toString('hex')}`
const urlOf = (s: string) => `${PG}${PG.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${s}`)}`
const data = tempDir('closeloop-move-')
const started: ServeProcess[] = []

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG })
  await c.connect()
  try { await c.query(sql) } finally { await c.end() }
}

afterAll(async () => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL')
  await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${other} CASCADE`)
  rmSync(data, { recursive: true, force: true })
})

describe('closeloop migrate-store', () => {
  it('moves a SQLite store into PostgreSQL, survives a SIGKILL mid-copy, and verifies', async () => {
    const added = await runCli(['sites', 'add', '--data', data, '--name', 'Shop', '--origin', 'https://shop.example'])
    const { sk } = parseKeys(added.stdout)
    const serve = await startServe(['--data', data])
    started.push(serve)
    const post = (path: string, body: unknown) => fetch(`${serve.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json', 'user-agent': BROWSER_UA }, body: JSON.stringify(body) })
    // Enough events for several batches per table, over 40 visitors and three campaigns (12,000;
    // 11,700 after the erasure of one visitor's 300).
    const vids = Array.from({ length: 40 }, () => visitorId())
    const day = 86_400_000
    const t0 = Date.now() - 60 * day
    for (let chunk = 0; chunk < 8; chunk++) {
      const events = Array.from({ length: 1500 }, (_, i) => {
        const n = chunk * 1500 + i
        return touchEvent(vids[n % 40], t0 + n * 60_000, { source: ['google', 'bing', 'newsletter'][n % 3], medium: n % 3 === 2 ? 'email' : 'cpc', campaign: `camp-${n % 5}` })
      })
      expect((await post('/v1/import', { events })).status).toBe(200)
    }
    for (let w = 0; w < 40; w++) {
      expect((await post('/v1/identify', { visitorId: vids[w], email: `p${w}@corp${w % 7}.example`, ts: t0 + 30 * day })).status).toBe(200)
      if (w % 3 === 0) expect((await post('/v1/deals', { dealId: `d${w}`, email: `p${w}@corp${w % 7}.example`, stage: w % 2 ? 'won' : 'sql', amount: 100 * w, ts: t0 + 40 * day })).status).toBe(200)
    }
    expect((await post('/v1/spend', { rows: [{ date: new Date(t0 + day).toISOString().slice(0, 10), source: 'google', medium: 'cpc', campaign: 'camp-1', amount: 500 }] })).status).toBe(200)
    expect((await post('/v1/privacy/erase', { email: 'p3@corp3.example' })).status).toBe(200)
    serve.child.kill('SIGTERM')
    expect(await serve.exited).toBe(0)
    expect((await runCli(['crm', 'add', '--data', data, '--site', 'Shop', '--kind', 'hubspot', '--token', 't', '--client-secret', 's'])).code).toBe(0)
    await admin(`CREATE SCHEMA ${schema}; CREATE SCHEMA ${other}`)

    // First run: killed once the events copy is under way.
    const { command, args } = cliCommand()
    const child = spawn(command, [...args, 'migrate-store', '--from-data', data, '--to-database-url', urlOf(schema)])
    let err = ''
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString()
        if (/ {2}events: \d+ rows/.test(err) && child.exitCode === null) { child.kill('SIGKILL'); resolve() }
      })
      child.on('exit', () => resolve())
    })
    await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r))
    expect(child.signalCode, err).toBe('SIGKILL')

    const second = await runCli(['migrate-store', '--from-data', data, '--to-database-url', urlOf(schema)])
    expect(second.code, second.stderr + second.stdout).toBe(0)
    expect(second.stderr).toMatch(/resuming/)
    expect(second.stdout).toMatch(/^events: 11700 row\(s\), \d+ new/m)
    expect(second.stdout).toMatch(/Verified: row counts of every table, and \d+ report\(s\)/)

    // The PostgreSQL store answers like the SQLite one.
    const [a, b] = [await openStore({ dataDir: data }), await openStore({ databaseUrl: urlOf(schema) })]
    try {
      const site = (await a.listSites())[0]
      expect((await b.listSites()).map((s) => s.id)).toEqual([site.id])
      const q = { model: 'linear' as const, by: 'campaign' as const, conversion: 'won' as const }
      const [ra, rb] = [await attributionReport(a, site, q), await attributionReport(b, site, q)]
      expect(rb.totals).toEqual(ra.totals)
      expect(rb.totals.revenue).toBeGreaterThan(0)
      expect((await b.listCrmConnections()).map((c) => c.kind)).toEqual(['hubspot'])
      // The erased person stays erased: suppressed in PostgreSQL too.
      expect(await b.findLeadByVisitor(site.id, vids[3])).toBeNull()
    } finally {
      await a.close()
      await b.close()
    }

    // A database holding another installation is refused.
    const foreign = await runCli(['sites', 'add', '--database-url', urlOf(other), '--name', 'Other', '--origin', 'https://other.example'])
    expect(foreign.code, foreign.stderr).toBe(0)
    expectFailure(await runCli(['migrate-store', '--from-data', data, '--to-database-url', urlOf(other)]), 'migrate-store', 'CL_ERR_STORE_NOT_EMPTY')
  }, 180_000)
})
