// Several `closeloop serve --database-url` processes on one PostgreSQL schema, driven over real
// HTTP: the same people identified through different processes at once, the same retried events
// posted through different processes in opposite orders, and a report on one process right after a
// write acknowledged by another.

import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { nanoid } from 'nanoid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'
import { BROWSER_UA, ORIGIN } from '../http/helpers.js'

const PG = process.env.CLOSELOOP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `cl_scale_${randomBytes(5).toString('hex')}`
const url = `${PG}${PG.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`
// Every process of one install shares the key that derives the match keys and encrypts e-mails.
const env = {
  CLOSELOOP_SECRET_KEY: randomBytes(32).toString('hex'),
  // All the load comes from one IP: the per-IP limit would answer 429s, which is not what is tested.
  CLOSELOOP_RATE_IP_PER_SECOND: '0', CLOSELOOP_RATE_IP_BURST: '0', CLOSELOOP_RATE_KEY_PER_SECOND: '0', CLOSELOOP_RATE_KEY_BURST: '0',
}

let keys: { pk: string; sk: string }
let procs: ServeProcess[] = []

async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG })
  await c.connect()
  try {
    await c.query(`SET search_path = ${schema}`)
    return (await c.query<T>(text, values)).rows
  } finally {
    await c.end()
  }
}

interface Reply { status: number; body: any }

async function post(base: string, path: string, body: unknown, auth: 'public' | 'secret'): Promise<Reply> {
  const headers: Record<string, string> = { 'user-agent': BROWSER_UA, 'content-type': auth === 'secret' ? 'application/json' : 'text/plain;charset=UTF-8' }
  if (auth === 'secret') headers.authorization = `Bearer ${keys.sk}`
  else headers.origin = ORIGIN
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

async function get(base: string, path: string): Promise<Reply> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${keys.sk}` } })
  return { status: res.status, body: await res.json() }
}

const landing = (vid: string, ts: number, campaign: string) => ({
  id: nanoid(21), type: 'page', ts, vid, sid: nanoid(12), title: 'Home',
  url: `https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=${campaign}`,
  touch: { ts, source: 'google', medium: 'cpc', campaign, landing: 'https://shop.example/' },
})

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** Replies other than 200 counted by status and error code, so a failure says what came back. */
function failures(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of replies) if (r.status !== 200) out[`${r.status} ${r.body?.error?.code}`] = (out[`${r.status} ${r.body?.error?.code}`] ?? 0) + 1
  return out
}

beforeAll(async () => {
  await sql(`CREATE SCHEMA ${schema}`)
  const added = await runCli(['sites', 'add', '--database-url', url, '--name', 'Shop', '--origin', ORIGIN], env)
  expect(added.code, added.stderr).toBe(0)
  keys = parseKeys(added.stdout)
  procs = await Promise.all([0, 1, 2].map(() => startServe(['--database-url', url], env)))
}, 90_000)

afterAll(async () => {
  // How often PostgreSQL still broke a lock cycle (each retried whole, invisible to clients).
  const retried = await Promise.all(procs.map(async (p) => Number(/^closeloop_store_batch_retries_total (\d+)$/m.exec(await (await fetch(`${p.url}/metrics`)).text())?.[1] ?? 0)))
  console.info(`transactions retried after a deadlock, by process: ${retried.join(', ')}`)
  for (const p of procs) p.child.kill('SIGTERM')
  await Promise.all(procs.map((p) => p.exited))
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
})

describe('three collectors on one PostgreSQL', () => {
  it('the same people identified through every process at once: no error, one lead each, every visitor linked', async () => {
    const people = Array.from({ length: 200 }, (_, i) => `person${i}@example.com`)
    // Three visitors (devices) per person, each landing and identified through a different process.
    const visitors = people.map(() => [nanoid(21), nanoid(21), nanoid(21)])
    const t0 = Date.now() - 60_000
    // Opposite orders in different processes: the first takes people 0..199, the second 199..0.
    const orders = [people.map((_, i) => i), people.map((_, i) => people.length - 1 - i), shuffled(people.map((_, i) => i))]
    const identifies = orders.flatMap((order, p) => order.map(async (i) => ({ i, p, reply: await post(procs[p].url, '/v1/identify', { email: people[i], visitorId: visitors[i][p], traits: { [`via${p}`]: true } }, 'secret') })))
    // Collects in parallel: each visitor's landing through the next process, ten visitors a request.
    const collects = [0, 1, 2].flatMap((p) => {
      const vids = orders[p].map((i) => visitors[i][p])
      const chunks: string[][] = []
      for (let k = 0; k < vids.length; k += 10) chunks.push(vids.slice(k, k + 10))
      return chunks.map((chunk) => post(procs[(p + 1) % 3].url, '/v1/collect', { site: keys.pk, sentAt: Date.now(), events: chunk.map((v, k) => landing(v, t0 + k, `c${p}`)) }, 'public'))
    })
    const [ids, cols] = await Promise.all([Promise.all(identifies), Promise.all(collects)])
    expect(failures(ids.map((x) => x.reply)), 'identify').toEqual({})
    expect(failures(cols), 'collect').toEqual({})

    // One lead per e-mail: the three calls for a person answered with the same lead.
    const leadOf = new Map<number, Set<string>>()
    for (const { i, reply } of ids) leadOf.set(i, (leadOf.get(i) ?? new Set()).add(reply.body.leadId))
    expect([...leadOf.values()].filter((s) => s.size !== 1).length).toBe(0)
    const [{ leads }] = await sql<{ leads: string }>('SELECT count(*) AS leads FROM leads')
    expect(Number(leads)).toBe(people.length)
    const emails = await sql<{ lead_id: string; n: string }>("SELECT lead_id, count(*) AS n FROM lead_identities WHERE kind = 'email' GROUP BY lead_id")
    expect(emails.length).toBe(people.length)
    // Every visitor linked to its person's lead, and each lead's traits from all three calls.
    const links = await sql<{ lead_id: string; visitor_id: string }>('SELECT lead_id, visitor_id FROM lead_visitors')
    expect(links.length).toBe(people.length * 3)
    const linked = new Map(links.map((r) => [r.visitor_id, r.lead_id]))
    const wrong = people.flatMap((_, i) => visitors[i].filter((v) => linked.get(v) !== [...leadOf.get(i)!][0]))
    expect(wrong).toEqual([])
    const traits = await sql<{ traits: Record<string, boolean> }>('SELECT traits FROM leads')
    expect(traits.filter((r) => !(r.traits.via0 && r.traits.via1 && r.traits.via2)).length).toBe(0)
    // Every landing stored once, and every lead's original source set from one of its touches.
    const [{ events }] = await sql<{ events: string }>('SELECT count(*) AS events FROM events')
    expect(Number(events)).toBe(people.length * 3)
    const [{ unsourced }] = await sql<{ unsourced: string }>('SELECT count(*) AS unsourced FROM leads WHERE first_touch_id IS NULL')
    expect(Number(unsourced)).toBe(0)
  }, 120_000)

  it('the same retried events through every process in opposite orders: no error, none lost or duplicated', async () => {
    // Rounds of fresh events: whether two processes' batches overlap in time is up to the scheduler.
    for (let round = 0; round < 3; round++) {
      const vids = Array.from({ length: 200 }, () => nanoid(21))
      const t0 = Date.now() - 30_000
      const events = vids.flatMap((v, k) => [0, 1, 2, 3, 4].map((n) => landing(v, t0 + k * 10 + n, `r${n}`)))
      // Half the visitors are known leads: their events also settle the leads' original source.
      const known = await Promise.all(vids.slice(0, 100).map((v, k) => post(procs[k % 3].url, '/v1/identify', { email: `retry${round}.${k}@example.com`, visitorId: v }, 'secret')))
      expect(failures(known)).toEqual({})
      const orders = [events, [...events].reverse(), shuffled(events)]
      const replies = await Promise.all(orders.flatMap((order, p) => {
        const out: Array<Promise<Reply>> = []
        for (let k = 0; k < order.length; k += 25) out.push(post(procs[p].url, '/v1/collect', { site: keys.pk, sentAt: Date.now(), events: order.slice(k, k + 25) }, 'public'))
        return out
      }))
      expect(failures(replies), `round ${round}`).toEqual({})
      // Each event accepted by exactly one process, a duplicate for the other two, stored once.
      expect(replies.reduce((n, r) => n + r.body.accepted, 0)).toBe(events.length)
      expect(replies.reduce((n, r) => n + r.body.duplicates, 0)).toBe(events.length * 2)
      const stored = await sql<{ id: string }>('SELECT id FROM events WHERE visitor_id = ANY($1::text[])', [vids])
      expect(stored.length).toBe(events.length)
      expect(new Set(stored.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)))
      const touches = await sql<{ n: string }>('SELECT count(*) AS n FROM touches WHERE visitor_id = ANY($1::text[])', [vids])
      expect(Number(touches[0].n)).toBe(events.length)
      // Each known visitor's lead took its original source from one of that visitor's touches (the
      // first to commit: a later one with an earlier clock does not replace it).
      const sources = await sql<{ visitor_id: string; first_touch_id: string | null }>(
        'SELECT lv.visitor_id, l.first_touch_id FROM lead_visitors lv JOIN leads l ON l.id = lv.lead_id WHERE lv.visitor_id = ANY($1::text[])', [vids.slice(0, 100)])
      expect(sources.length).toBe(100)
      const own = (vid: string) => new Set(events.filter((e) => e.vid === vid).map((e) => e.id))
      expect(sources.filter((s) => s.first_touch_id === null || !own(s.visitor_id).has(s.first_touch_id))).toEqual([])
    }
  }, 120_000)

  it('the same new deals through every process at once: no error, each stored once with one history', async () => {
    const vid = nanoid(21)
    expect((await post(procs[0].url, '/v1/identify', { email: 'committee@example.com', visitorId: vid }, 'secret')).status).toBe(200)
    const deals = Array.from({ length: 60 }, (_, k) => ({ dealId: `NEW-${k}`, email: 'committee@example.com', stage: 'sql', amount: 10 + k, ts: Date.now() - 2000 }))
    // Each deal sent by all three processes at once, in one-deal requests and in opposite orders.
    const orders = [deals, [...deals].reverse(), shuffled(deals)]
    const replies = await Promise.all(orders.flatMap((order, p) => order.map((d) => post(procs[p].url, '/v1/deals', d, 'secret'))))
    expect(failures(replies)).toEqual({})
    const stored = await sql<{ id: string; stages: string }>(
      "SELECT d.id, (SELECT count(*) FROM deal_stages s WHERE s.site_id = d.site_id AND s.deal_id = d.id) AS stages FROM deals d WHERE d.id LIKE 'NEW-%'")
    expect(stored.length).toBe(deals.length)
    expect(stored.filter((r) => Number(r.stages) !== 1)).toEqual([])
  }, 60_000)

  it('a deal acknowledged by one process is in the next report of another', async () => {
    const [a, b] = procs
    const won = async (): Promise<number> => {
      const r = await get(b.url, '/v1/reports/attribution?model=last_touch&by=channel&conversion=won')
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return Math.round(Number(r.body.totals.revenue))
    }
    const vid = nanoid(21)
    expect((await post(a.url, '/v1/collect', { site: keys.pk, sentAt: Date.now(), events: [landing(vid, Date.now() - 5000, 'deal')] }, 'public')).status).toBe(200)
    expect((await post(a.url, '/v1/identify', { email: 'buyer@example.com', visitorId: vid }, 'secret')).status).toBe(200)
    let expected = await won()
    for (let k = 1; k <= 5; k++) {
      // B has just loaded the report: each round it would reuse that load unless it sees A's write.
      expect(await won()).toBe(expected)
      const deal = await post(a.url, '/v1/deals', { dealId: `D-${k}`, email: 'buyer@example.com', stage: 'won', amount: 100 * k, ts: Date.now() - 1000 }, 'secret')
      expect(deal.status, JSON.stringify(deal.body)).toBe(200)
      expected += 100 * k
      expect(await won()).toBe(expected)
    }
  }, 60_000)
})
