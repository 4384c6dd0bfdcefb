import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { parseKeys, runCli } from './cli-process.js'
import { buildApp } from '../../src/http/app.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { openStore } from '../../src/store/index.js'
import { collect, pageEvent, secret, send, startTestServer, tempDir, visitorId } from '../http/helpers.js'

const dir = tempDir('closeloop-cli-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('closeloop CLI', () => {
  it('adds a site, prints both keys once, and lists it without the secret', async () => {
    const added = await runCli(['sites', 'add', '--data', dir, '--name', 'Acme', '--origin', 'https://acme.example/', '--origin', 'https://www.acme.example', '--cookie-domain', '.acme.example', '--currency', 'eur'])
    expect(added.code, added.stderr).toBe(0)
    const { pk, sk } = parseKeys(added.stdout)
    expect(pk).toMatch(/^pk_[A-Za-z0-9_-]{21}$/)
    expect(sk).toMatch(/^sk_[A-Za-z0-9_-]{40}$/)

    const list = await runCli(['sites', 'list', '--data', dir])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain('Acme')
    expect(list.stdout).toContain(pk)
    expect(list.stdout).toContain('https://acme.example,https://www.acme.example')
    expect(list.stdout).toContain('EUR')
    expect(list.stdout).not.toContain(sk)
    expect(list.stdout).not.toContain(sk.slice(11))
  })

  it('reads the data directory from CLOSELOOP_DATA', async () => {
    const list = await runCli(['sites', 'list', '--json'], { CLOSELOOP_DATA: dir })
    expect(JSON.parse(list.stdout).map((s: { name: string }) => s.name)).toEqual(['Acme'])
  })

  it('refuses duplicates, bad origins and unknown commands with coded messages', async () => {
    const dup = await runCli(['sites', 'add', '--data', dir, '--name', 'Acme', '--origin', 'https://acme.example'])
    expect(dup.code).toBe(1)
    expect(dup.stderr).toContain('CL_ERR_SITE_EXISTS')
    const origin = await runCli(['sites', 'add', '--data', dir, '--name', 'Other', '--origin', 'javascript:alert(1)'])
    expect(origin.code).toBe(1)
    expect(origin.stderr).toContain('CL_ERR_BAD_ORIGIN')
    expect(origin.stderr).not.toContain('did you mean')
    const bare = await runCli(['sites', 'add', '--data', dir, '--name', 'Other', '--origin', 'shop.example'])
    expect(bare.code).toBe(1)
    expect(bare.stderr).toContain('not an http(s) origin: shop.example (CL_ERR_BAD_ORIGIN)\nhint: did you mean "https://shop.example"?')
    const unknown = await runCli(['frobnicate'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('CL_ERR_UNKNOWN_COMMAND')
    const badFlag = await runCli(['sites', 'add', '--nme', 'x'])
    expect(badFlag.code).toBe(1)
    expect(badFlag.stderr).toContain('CL_ERR_USAGE')
  })

  it('erases a person from the store like POST /v1/privacy/erase, and suppresses their later data', async () => {
    const server = await startTestServer()
    try {
      const vid = visitorId()
      expect((await collect(server, [pageEvent(vid, { touch: { source: 'google', medium: 'organic' } })])).body.accepted).toBe(1)
      expect((await secret(server, '/v1/identify', { visitorId: vid, email: 'cli.erase@example.com' })).status).toBe(200)
      const missing = await runCli(['erase', '--data', server.dir, '--site', 'Test shop'])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain('CL_ERR_PRIVACY_NO_SELECTOR')
      const noSite = await runCli(['erase', '--data', server.dir, '--site', 'Nope', '--email', 'cli.erase@example.com'])
      expect(noSite.stderr).toContain('CL_ERR_SITE_NOT_FOUND')
      const r = await runCli(['erase', '--data', server.dir, '--site', 'Test shop', '--email', ' CLI.Erase@example.com '])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain('Erased 1 lead(s), 1 visitor(s)')
      const after = await secret(server, `/v1/privacy/export?visitorId=${vid}`)
      expect(after.body).toEqual({ leads: [], events: [], touches: [] })
      // The running server sees the suppression written by the CLI process.
      const later = await collect(server, [pageEvent(vid)])
      expect(later.body.rejected).toEqual([{ index: 0, code: 'CL_ERR_SUPPRESSED' }])
    } finally {
      await server.close()
    }
  })

  it('updates a site\'s settings: CRM stage names, phone region, cookie domain; the server applies them', async () => {
    const home = tempDir('closeloop-cli-update-')
    try {
      const added = await runCli(['sites', 'add', '--data', home, '--name', 'Beta', '--origin', 'https://beta.example', '--cookie-domain', '.beta.example'])
      const { sk } = parseKeys(added.stdout)
      const bad = await runCli(['sites', 'update', '--data', home, '--name', 'Beta', '--stage', 'Signed=bogus'])
      expect([bad.code, bad.stderr.includes('CL_ERR_BAD_CONFIG')]).toEqual([1, true])
      const region = await runCli(['sites', 'update', '--data', home, '--name', 'Beta', '--phone-region', 'GBR'])
      expect(region.stderr).toContain('CL_ERR_BAD_CONFIG')
      const missing = await runCli(['sites', 'update', '--data', home, '--name', 'Nope', '--currency', 'EUR'])
      expect(missing.stderr).toContain('CL_ERR_SITE_NOT_FOUND')
      const ok = await runCli(['sites', 'update', '--data', home, '--name', 'Beta', '--stage', 'Signed Contract=won', '--stage', 'Demo Done = SQL', '--phone-region', 'gb', '--cookie-domain', 'none', '--internal-domain', 'beta-app.example'])
      expect(ok.code, ok.stderr).toBe(0)
      expect(JSON.parse(ok.stdout.slice(ok.stdout.indexOf('{')))).toEqual({
        origins: ['https://beta.example'], cookieDomain: null, currency: 'USD',
        settings: { stageMapping: { 'Signed Contract': 'won', 'Demo Done': 'sql' }, phoneRegion: 'GB', internalDomains: ['beta-app.example'] },
      })
      // --keep-bots stores bot events (testing with a headless browser); --no-keep-bots undoes it.
      const settingsOf = (out: string) => JSON.parse(out.slice(out.indexOf('{'))).settings
      expect(settingsOf((await runCli(['sites', 'update', '--data', home, '--name', 'Beta', '--keep-bots'])).stdout).keepBots).toBe(true)
      expect(settingsOf((await runCli(['sites', 'update', '--data', home, '--name', 'Beta', '--no-keep-bots'])).stdout)).not.toHaveProperty('keepBots')

      // A collector on the same data folder applies them.
      const store = await openStore({ dataDir: home })
      const app = await buildApp({ store, keys: loadInstallKeys({ dataDir: home, env: {} }), config: {} })
      const url = await app.listen({ port: 0, host: '127.0.0.1' })
      try {
        const post = (path: string, body: unknown) => send(`${url}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' } })
        // A national UK number is read with the site's region: the same person as its E.164 form.
        const a = await post('/v1/identify', { visitorId: visitorId(), phone: '020 7946 0018' })
        const b = await post('/v1/identify', { visitorId: visitorId(), phone: '+44 20 7946 0018' })
        expect(a.status, a.text).toBe(200)
        expect(b.body.leadId).toBe(a.body.leadId)
        const won = await post('/v1/deals', { dealId: 'b-1', leadId: a.body.leadId, stage: 'signed contract', amount: 10 })
        expect(won.status, won.text).toBe(200)
        expect(JSON.stringify(won.body)).toContain('"won"')
        const unknown = await post('/v1/deals', { dealId: 'b-2', leadId: a.body.leadId, stage: 'Handshake' })
        expect(unknown.body.error?.code ?? JSON.stringify(unknown.body)).toContain('CL_ERR_UNKNOWN_STAGE')
      } finally {
        await app.close()
      }
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
