// Script, health, metrics, base path and rate limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trackerScriptPath } from '../../src/http/routes/script.js'
import { collect, pageEvent, secret, send, startTestServer, visitorId, type TestServer } from './helpers.js'

describe('with --base-path /_cl', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ basePath: '/_cl' })
  })
  afterAll(async () => {
    await server.close()
  })

  it('serves every route under the prefix and nothing outside it', async () => {
    expect(server.url.endsWith('/_cl')).toBe(true)
    expect((await send(`${server.url}/healthz`)).body).toEqual({ status: 'ok' })
    expect((await collect(server, [pageEvent(visitorId())])).body.accepted).toBe(1)
    const outside = await send(server.url.replace('/_cl', '') + '/healthz')
    expect(outside.status).toBe(404)
    expect(outside.body.error.code).toBe('CL_ERR_NOT_FOUND')
  })

  it('serves the tracker script with an ETag and answers If-None-Match with 304', async () => {
    expect(trackerScriptPath()).not.toBeNull()
    const res = await fetch(`${server.url}/closeloop.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/)
    const etag = res.headers.get('etag')
    expect(etag).toMatch(/^".+"$/)
    const body = await res.text()
    expect(body.length).toBeGreaterThan(100)
    const again = await fetch(`${server.url}/closeloop.js`, { headers: { 'if-none-match': etag ?? '' } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const stale = await fetch(`${server.url}/closeloop.js`, { headers: { 'if-none-match': '"old"' } })
    expect(stale.status).toBe(200)
  })

  it('exposes Prometheus metrics', async () => {
    const vid = visitorId()
    await collect(server, [pageEvent(vid), pageEvent(vid), { bad: 1 }])
    const res = await send(`${server.url}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(res.text)?.[1])
    expect(value('closeloop_events_accepted_total')).toBeGreaterThanOrEqual(2)
    expect(res.text).toMatch(/closeloop_events_rejected_total\{code="CL_ERR_INVALID_EVENT"\} 1/)
    expect(res.text).toMatch(/closeloop_http_request_duration_seconds_bucket\{route="\/_cl\/v1\/collect",status="2xx",le="\+Inf"\} \d+/)
    expect(res.text).toMatch(/closeloop_ingest_batch_events_count \d+/)
    expect(value('closeloop_store_commits_total')).toBeGreaterThan(0)
    // Commit sizes as a histogram: 20 concurrent single-event requests share transactions.
    await Promise.all(Array.from({ length: 20 }, () => collect(server, [pageEvent(visitorId())])))
    const after = await send(`${server.url}/metrics`)
    const bucket = (le: string): number => Number(new RegExp(`^closeloop_store_commit_jobs_bucket\\{le="${le.replace('+', '\\+')}"\\} (\\d+)`, 'm').exec(after.text)?.[1])
    const count = Number(/^closeloop_store_commit_jobs_count (\d+)/m.exec(after.text)?.[1])
    expect(bucket('+Inf')).toBe(count)
    expect(Number(/^closeloop_store_commit_jobs_sum (\d+)/m.exec(after.text)?.[1])).toBeGreaterThanOrEqual(count)
    // Some transaction carried more than one request.
    expect(bucket('1')).toBeLessThan(count)
    expect(bucket('1')).toBeLessThanOrEqual(bucket('2'))
    // WAL syncs (SQLite): at most one per transaction (commits made during a sync share the next),
    // and the report cache's figures.
    const counter = (name: string, text: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1])
    expect(counter('closeloop_store_wal_syncs_total', after.text)).toBeGreaterThan(0)
    expect(counter('closeloop_store_wal_syncs_total', after.text)).toBeLessThanOrEqual(counter('closeloop_store_commits_total', after.text))
    const held = counter('closeloop_report_cache_touches', after.text)
    expect(await secret(server, '/v1/reports/attribution?model=linear&by=channel')).toMatchObject({ status: 200 })
    await collect(server, [pageEvent(visitorId(), { touch: { source: 'google', medium: 'cpc', campaign: 'm' } })])
    await secret(server, '/v1/reports/attribution?model=linear&by=channel')
    const later = (await send(`${server.url}/metrics`)).text
    expect(counter('closeloop_report_cache_appended_total', later)).toBeGreaterThanOrEqual(1)
    expect(counter('closeloop_report_cache_touches', later)).toBeGreaterThan(held)
    expect(counter('closeloop_report_cache_touch_scans_total', later)).toBeGreaterThanOrEqual(1)
    // The process's memory, as Prometheus' Node.js client names it.
    expect(counter('process_resident_memory_bytes', later)).toBeGreaterThan(counter('nodejs_heap_size_used_bytes', later))
    expect(counter('nodejs_heap_size_used_bytes', later)).toBeGreaterThan(0)
    // The first report's table was given back when the write made it stale.
    expect(counter('closeloop_report_cache_tables_released_total', later)).toBeGreaterThanOrEqual(1)
  })
})

describe('rate limits', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ rateLimit: { ipPerSecond: 1, ipBurst: 5, keyPerSecond: 1000, keyBurst: 1000 } })
  })
  afterAll(async () => {
    await server.close()
  })

  it('answers 429 with Retry-After once the IP bucket is empty', async () => {
    const statuses: number[] = []
    let limited: Awaited<ReturnType<typeof send>> | null = null
    for (let i = 0; i < 8; i++) {
      const res = await send(`${server.url}/healthz`)
      statuses.push(res.status)
      if (res.status === 429) limited = res
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200])
    expect(limited?.body.error.code).toBe('CL_ERR_RATE_LIMITED')
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })
})

describe('per-key rate limit', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ rateLimit: { ipPerSecond: 0, ipBurst: 0, keyPerSecond: 1, keyBurst: 3 } })
  })
  afterAll(async () => {
    await server.close()
  })

  it('limits each key on its own', async () => {
    const codes: number[] = []
    for (let i = 0; i < 5; i++) codes.push((await collect(server, [pageEvent(visitorId())])).status)
    expect(codes).toEqual([200, 200, 200, 429, 429])
    // The secret key has its own bucket.
    expect((await secret(server, '/v1/identify', { visitorId: visitorId(), email: 'k@example.com' })).status).toBe(200)
  })
})

describe('malformed HTTP', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(async () => {
    await server.close()
  })

  async function rawHttp(request: string): Promise<string> {
    const { connect } = await import('node:net')
    const { port } = new URL(server.url)
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(request))
      let data = ''
      socket.on('data', (d) => (data += d.toString()))
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
    })
  }

  it('answers router and parser failures with coded errors', async () => {
    const long = await secret(server, `/v1/leads/${'a'.repeat(300)}`)
    expect(long.status).toBe(414)
    expect(long.body.error.code).toBe('CL_ERR_URL_TOO_LONG')
    const badEncoding = await send(`${server.url}/v1/leads/%E0%A4%A`)
    expect(badEncoding.status).toBe(400)
    expect(badEncoding.body.error.code).toMatch(/^CL_ERR_/)
    const garbage = await rawHttp('GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(garbage).toMatch(/^HTTP\/1\.1 400/)
    expect(garbage).toContain('"code":"CL_ERR_BAD_REQUEST"')
    const noType = await rawHttp(`POST /v1/collect HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`)
    expect(noType).toMatch(/^HTTP\/1\.1 415/)
    expect(noType).toContain('CL_ERR_UNSUPPORTED_MEDIA_TYPE')
    // Still serving.
    expect((await collect(server, [pageEvent(visitorId())])).body.accepted).toBe(1)
  })
})
