// Browser clients of the Segment API, unchanged, in real Chromium on a real origin: the npm package
// bundled for the page with esbuild, its settings passed inline (no CDN), its API host pointed at
// the collector through a proxy that loses the first answer (so the client must retry).

import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createSite } from '../../src/sites/admin.js'
import { BROWSER_UA, startTestServer, type TestServer } from '../http/helpers.js'
import { lossyProxy, type LossyProxy } from '../http/lossy-proxy.js'
import { eventsOf, expectAttributed } from '../http/segment-helpers.js'

const pkg = fileURLToPath(new URL('../..', import.meta.url))

/** An npm client as one script for the page, exposing its entry as window[name]. */
async function bundle(specifier: string, exportName: string): Promise<string> {
  const out = await build({
    stdin: { contents: `import { ${exportName} } from '${specifier}'; window.${exportName} = ${exportName}`, resolveDir: pkg, loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    minify: true,
    write: false,
    logLevel: 'silent',
  })
  return out.outputFiles[0].text
}

/** The site's own pages on 127.0.0.1: any path gets the page, /client.js the bundled client. */
async function siteServer(script: string, init: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      res.end(script)
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><title>Shop</title><script src="/client.js"></script><script>${init}</script><h1>Shop</h1>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

let browser: Browser
let ajs: string
beforeAll(async () => {
  ajs = await bundle('@segment/analytics-next', 'AnalyticsBrowser')
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})
afterAll(async () => {
  await browser?.close()
})

describe('@segment/analytics-next in Chromium, unchanged', () => {
  let server: TestServer
  let proxy: LossyProxy
  let site: Awaited<ReturnType<typeof siteServer>>
  let key: string
  const cdnRequests: string[] = []
  beforeEach(async () => {
    server = await startTestServer()
    proxy = await lossyProxy(server.url, 1)
  })
  afterEach(async () => {
    await site?.close()
    await proxy.close()
    await server.close()
  })

  async function start(delivery: Record<string, unknown> | null) {
    const apiHost = `${new URL(proxy.url).host}/segment/v1`
    // The settings analytics.js would fetch from its CDN, inline: only the Segment.io destination.
    const init = `window.ready = AnalyticsBrowser.load({ writeKey: KEY, cdnSettings: { integrations: { 'Segment.io': { apiKey: KEY, apiHost: ${JSON.stringify(apiHost)}, protocol: 'http'${delivery ? `, deliveryStrategy: ${JSON.stringify(delivery)}` : ''} } } } }, { integrations: { 'Segment.io': { apiHost: ${JSON.stringify(apiHost)}, protocol: 'http' } } }).then(([a]) => (window.analytics = a))`
    site = await siteServer(ajs, init.replaceAll('KEY', 'window.KEY'))
    // The site's pages post with the publishable key from their own origin.
    const created = await createSite(server.store, { name: `Segment site ${Math.random()}`, origins: [site.origin] })
    key = created.site.publicKey
    const own: TestServer = { ...server, site: created.site, pk: created.site.publicKey, sk: created.secretKey }
    const context = await browser.newContext({ userAgent: BROWSER_UA })
    context.on('request', (r) => {
      if (!r.url().startsWith(site.origin) && !r.url().startsWith(proxy.url)) cdnRequests.push(r.url())
    })
    await context.addInitScript(`window.KEY = ${JSON.stringify(key)}`)
    const page = await context.newPage()
    return { page, own }
  }

  it('one call a request (/p, /t, /i): the touch reaches the lead and the report; the lost answer is retried and counted once; an oversized message is refused, the rest kept', async () => {
    const { page, own } = await start(null)
    const landing = `${site.origin}/landing?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q4-launch`
    await page.goto(landing, { referer: 'https://www.linkedin.com/' })
    const anonymousId = await page.evaluate(async () => {
      const w = window as unknown as { ready: Promise<unknown>; analytics: any }
      await w.ready
      await w.analytics.page()
      await w.analytics.track('Demo Requested', { plan: 'team' })
      await w.analytics.track('Too Big', { blob: 'x'.repeat(40 * 1024) })
      await w.analytics.identify('browser-user-1', { email: 'browser-buyer@acme-corp.example' })
      return w.analytics.user().anonymousId() as string
    })
    // analytics.js's one-letter paths; the first page call's answer was lost: sent twice, stored once.
    expect(proxy.paths).toEqual(['/segment/v1/p', '/segment/v1/p', '/segment/v1/t', '/segment/v1/t', '/segment/v1/i'])
    expect(proxy.bodies[0].equals(proxy.bodies[1]) || JSON.parse(proxy.bodies[0].toString()).messageId === JSON.parse(proxy.bodies[1].toString()).messageId).toBe(true)
    // Sent with the write key as Basic auth (a CORS preflight the collector allows).
    expect(JSON.parse(proxy.bodies[0].toString()).writeKey).toBe(key)
    for (let i = 0; i < 50 && (await eventsOf(own, anonymousId)).length < 4; i++) await new Promise((r) => setTimeout(r, 100))
    const events = await eventsOf(own, anonymousId)
    expect(events.filter((e) => e.type === 'page')).toHaveLength(1)
    expect(events.filter((e) => e.type === 'track').map((e) => e.name)).toEqual(['Demo Requested'])
    expect(cdnRequests).toEqual([])
    await expectAttributed(own, 'browser-buyer@acme-corp.example', anonymousId, landing)
  })

  it('batching delivery (/b): the same loop in one batch; the lost answer is retried and counted once', async () => {
    const { page, own } = await start({ strategy: 'batching', config: { size: 10, timeout: 300 } })
    const landing = `${site.origin}/landing?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q4-launch`
    await page.goto(landing, { referer: 'https://www.linkedin.com/' })
    const anonymousId = await page.evaluate(async () => {
      const w = window as unknown as { ready: Promise<unknown>; analytics: any }
      await w.ready
      await w.analytics.page()
      await w.analytics.track('Demo Requested', { plan: 'team' })
      await w.analytics.identify('batch-user-1', { email: 'batch-buyer@acme-corp.example' })
      return w.analytics.user().anonymousId() as string
    })
    for (let i = 0; i < 100 && proxy.paths.length < 2; i++) await new Promise((r) => setTimeout(r, 100))
    expect(proxy.paths.slice(0, 2)).toEqual(['/segment/v1/b', '/segment/v1/b'])
    const ids = (b: Buffer) => JSON.parse(b.toString()).batch.map((m: { messageId: string }) => m.messageId)
    expect(ids(proxy.bodies[1])).toEqual(ids(proxy.bodies[0]))
    expect(ids(proxy.bodies[0])).toHaveLength(3)
    const events = await eventsOf(own, anonymousId)
    // The person's events: page and track once each; identify on the anonymous visitor and on the userId's.
    expect(events.map((e) => e.type).sort()).toEqual(['identify', 'identify', 'page', 'track'])
    expect(cdnRequests).toEqual([])
    await expectAttributed(own, 'batch-buyer@acme-corp.example', anonymousId, landing)
  })
})

describe('@rudderstack/analytics-js in Chromium, unchanged', () => {
  let server: TestServer
  let proxy: LossyProxy
  let site: Awaited<ReturnType<typeof siteServer>> | undefined
  let rudder: string
  const outside: string[] = []
  beforeAll(async () => {
    // The build with its plugins inside: nothing is fetched from RudderStack's CDN.
    rudder = await bundle('@rudderstack/analytics-js/bundled', 'RudderAnalytics')
  })
  beforeEach(async () => {
    server = await startTestServer()
    // No answer lost here: after a lost answer its retry queue did not resend within a minute
    // (the other four clients' retries are tested); a call it sends twice is still stored once.
    proxy = await lossyProxy(server.url, 0)
  })
  afterEach(async () => {
    await site?.close()
    await proxy.close()
    await server.close()
  })

  it('a campaign visit, a page, a track and an identify reach the lead and the report; an oversized message is refused, the rest kept', async () => {
    // The source configuration its control plane would serve, passed inline (getSourceConfig).
    const init = `window.ready = new Promise((resolve) => {
      const ra = new RudderAnalytics()
      ra.load(window.KEY, ${JSON.stringify(`${proxy.url}/segment`)}, {
        getSourceConfig: () => ({ source: { id: 'src', name: 'shop', writeKey: window.KEY, enabled: true, workspaceId: 'ws', config: {}, destinations: [] } }),
        onLoaded: () => resolve(ra),
      })
      window.rudder = ra
    })`
    site = await siteServer(rudder, init)
    const created = await createSite(server.store, { name: 'Rudder site', origins: [site.origin] })
    const own: TestServer = { ...server, site: created.site, pk: created.site.publicKey, sk: created.secretKey }
    const context = await browser.newContext({ userAgent: BROWSER_UA })
    context.on('request', (r) => {
      if (!r.url().startsWith(site!.origin) && !r.url().startsWith(proxy.url)) outside.push(r.url())
    })
    await context.addInitScript(`window.KEY = ${JSON.stringify(created.site.publicKey)}`)
    const page = await context.newPage()
    const landing = `${site.origin}/landing?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q4-launch`
    await page.goto(landing, { referer: 'https://www.linkedin.com/' })
    const anonymousId = await page.evaluate(async () => {
      const w = window as unknown as { ready: Promise<any> }
      const ra = await w.ready
      ra.page()
      ra.track('Demo Requested', { plan: 'team' })
      ra.track('Too Big', { blob: 'x'.repeat(40 * 1024) })
      ra.identify('rudder-browser-1', { email: 'rudder-browser@acme-corp.example' })
      return ra.getAnonymousId() as string
    })
    const settled = async () => proxy.paths.length >= 4 && (await eventsOf(own, anonymousId)).some((e) => e.type === 'identify')
    for (let i = 0; i < 200 && !(await settled()); i++) await new Promise((r) => setTimeout(r, 100))
    // One call a request to {dataPlaneUrl}/v1/{type}.
    expect(new Set(proxy.paths)).toEqual(new Set(['/segment/v1/page', '/segment/v1/track', '/segment/v1/identify']))
    // The 40 KB track reached the collector (the client does not check sizes) and was refused.
    expect(proxy.paths.some((p, i) => p === '/segment/v1/track' && proxy.bodies[i].length > 40 * 1024)).toBe(true)
    const events = await eventsOf(own, anonymousId)
    expect(events.filter((e) => e.type === 'page')).toHaveLength(1)
    expect(events.filter((e) => e.type === 'track').map((e) => e.name)).toEqual(['Demo Requested'])
    expect(outside).toEqual([])
    await expectAttributed(own, 'rudder-browser@acme-corp.example', anonymousId, landing)
  })
})
