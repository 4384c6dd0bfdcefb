// The example form backend (examples/form-backend) and the example-site server used by `demo`.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveExampleSite } from '../../src/cli/demo-site.js'
import { collect, pageEvent, secret, startTestServer, tempDir, visitorId, type TestServer } from '../http/helpers.js'

interface FormBackend {
  url: string
  close(): Promise<void>
}

let server: TestServer
let backend: FormBackend
beforeAll(async () => {
  server = await startTestServer()
  const mod = (await import(new URL('../../../../examples/form-backend/server.mjs', import.meta.url).href)) as {
    startFormBackend(o: { collector: string; secretKey: string }): Promise<FormBackend>
  }
  backend = await mod.startFormBackend({ collector: server.url, secretKey: server.sk })
})
afterAll(async () => {
  await backend.close()
  await server.close()
})

describe('example form backend', () => {
  it('identifies the visitor and shows the original source as escaped text', async () => {
    const vid = visitorId()
    const evil = '<img src=x onerror=alert(1)>'
    await collect(server, [pageEvent(vid, { touch: { source: evil, medium: 'cpc', campaign: '"><script>alert(2)</script>' } })])
    const res = await fetch(`${backend.url}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ cl_visitor_id: vid, email: 'form@example.com', name: 'Form <b>User</b>' }),
    })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('Thank you')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; / cpc')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('<script>')
    expect(html).toMatch(/data-original-channel>Paid Other</)
  })

  it('still records the lead without a visitor ID, and refuses an empty form', async () => {
    const ok = await fetch(backend.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=novisitor%40example.com' })
    expect(ok.status).toBe(200)
    const html = await ok.text()
    expect(html).toContain('(none)')
    // No visitor is invented for it: the lead has none linked (an empty field is the same).
    const leadId = /data-lead-id>([^<]+)</.exec(html)?.[1]
    expect((await secret(server, `/v1/leads/${leadId}`)).body.visitorIds).toEqual([])
    const blank = await fetch(backend.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'cl_visitor_id=&email=novisitor%40example.com' })
    expect(blank.status).toBe(200)
    expect(await blank.text()).toContain(`data-lead-id>${leadId}<`)
    const empty = await fetch(backend.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' })
    expect(empty.status).toBe(400)
  })
})

describe('example site server', () => {
  const dir = tempDir('closeloop-site-')
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('substitutes the placeholders and never serves files outside the site', async () => {
    mkdirSync(join(dir, 'site'))
    writeFileSync(join(dir, 'site', 'index.html'), '<script async src="%CLOSELOOP_COLLECTOR%/closeloop.js" data-site="%CLOSELOOP_SITE%"></script><form action="%FORM_ACTION%">')
    writeFileSync(join(dir, 'secret.txt'), 'do not serve')
    const site = await serveExampleSite({ dir: join(dir, 'site'), collector: 'http://c.test', site: 'pk_abc', formAction: 'http://f.test/submit' })
    try {
      const html = await (await fetch(`${site.url}/`)).text()
      expect(html).toBe('<script async src="http://c.test/closeloop.js" data-site="pk_abc"></script><form action="http://f.test/submit">')
      for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
        const res = await fetch(`${site.url}${path}`)
        expect(res.status, path).not.toBe(200)
      }
      expect((await fetch(`${site.url}/missing.html`)).status).toBe(404)
    } finally {
      await site.close()
    }
  })
})
