// A won deal's conversions survive `closeloop serve` being killed mid-delivery, at each platform. A
// real serve process (child) holds three destinations, Google Ads, Meta and LinkedIn, each behind a
// gate that lets the platform's stub take the request but holds its answer. While a delivery is in
// flight (the platform has counted the conversion, Closeloop has no answer yet) the process gets
// SIGKILL and is restarted on the same data; once per platform. Every platform still counts one
// conversion: the restarted worker sends the row again with the same order/event ID, which the
// platform recognises (Google answers ORDER_ID_ALREADY_IN_USE, Meta and LinkedIn drop it), and
// every row ends sent.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseKeys, runCli, startServe, type ServeProcess } from '../../packages/collector/test/process/cli-process.js'
import { startGoogleAdsStub, type GoogleAdsStub } from '../../packages/collector/test/http/stubs/google-ads-stub.js'
import { startLinkedInStub, type LinkedInStub } from '../../packages/collector/test/http/stubs/linkedin-stub.js'
import { startMetaStub, type MetaStub } from '../../packages/collector/test/http/stubs/meta-stub.js'
import { startAnswerGate, type AnswerGate } from '../support/answer-gate.js'
import { waitUntil } from '../support/wait.js'

const HOUR = 3_600_000
const EMAIL = 'grace@crash.example'
const GCLID = 'Cj0KCQiA-crashGclid'
const FBCLID = 'IwAR-crashFbclid'
const LI_FAT_ID = 'crash-li-fat-id-0001'
const GOOGLE_ACTION = '555000111'
const LINKEDIN_RULE = 'urn:lla:llaPartnerConversion:2222'
/** A crashed collector's rows are due again this long after its claim (CLOSELOOP_DELIVERY_CLAIM_SECONDS). */
const ENV = { CLOSELOOP_DELIVERY_CLAIM_SECONDS: '2', CLOSELOOP_BOT_FILTER: 'false' }

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')

const dir = mkdtempSync(join(tmpdir(), 'closeloop-ad-platforms-crash-'))
const started: ServeProcess[] = []
let google: GoogleAdsStub
let meta: MetaStub
let linkedin: LinkedInStub
const gates: Record<'google' | 'meta' | 'linkedin', AnswerGate> = {} as never

beforeAll(async () => {
  google = await startGoogleAdsStub({ actions: [GOOGLE_ACTION] })
  meta = await startMetaStub()
  linkedin = await startLinkedInStub()
  gates.google = await startAnswerGate(google.url)
  gates.meta = await startAnswerGate(meta.url)
  gates.linkedin = await startAnswerGate(linkedin.url)
})

afterAll(async () => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL')
  await Promise.all(Object.values(gates).map((g) => g?.close()))
  await Promise.all([google?.close(), meta?.close(), linkedin?.close()])
  rmSync(dir, { recursive: true, force: true })
})

async function serve(): Promise<ServeProcess> {
  const p = await startServe(['--data', dir, '--crm-sync-minutes', '0'], ENV)
  started.push(p)
  return p
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli([...args, '--data', dir])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
}

describe('conversions to the ad platforms and SIGKILL mid-delivery', () => {
  it('each platform counts the won deal once, though every one of them saw the collector die mid-send', async () => {
    const { sk } = parseKeys(await cli(['sites', 'add', '--name', 'Crash', '--origin', 'https://crash.example']))
    const g = google.options
    await cli(['destinations', 'add', '--site', 'Crash', '--kind', 'google-ads', '--send', 'won=Closed deal', '--client-id', g.clientId, '--client-secret', g.clientSecret,
      '--refresh-token', g.refreshToken, '--developer-token', g.developerToken, '--customer-id', g.customerId, '--action', `Closed deal=${GOOGLE_ACTION}`,
      '--api-base', gates.google.url, '--token-url', google.tokenUrl])
    await cli(['destinations', 'add', '--site', 'Crash', '--kind', 'meta', '--send', 'won=Purchase', '--pixel-id', meta.pixelId, '--access-token', meta.token, '--api-base', gates.meta.url])
    await cli(['destinations', 'add', '--site', 'Crash', '--kind', 'linkedin', '--send', 'won=Closed deal', '--access-token', linkedin.token, '--conversion-urn', LINKEDIN_RULE, '--api-base', gates.linkedin.url])

    let proc = await serve()
    const auth = { authorization: `Bearer ${sk}`, 'content-type': 'application/json' }
    // One visitor's three ad clicks (as the tracker sends them, imported with their times) and the Meta pixel's cookie.
    const vid = 'crashvisitor000000001'
    const clicks = { gclid: Date.now() - 2 * 24 * HOUR, fbclid: Date.now() - 24 * HOUR, li_fat_id: Date.now() - 2 * HOUR }
    const fbp = `fb.1.${clicks.gclid - 60_000}.4242424242`
    const touch = (n: number, type: keyof typeof clicks, id: string, source: string) => ({
      id: `crashevent00000000000${n}`, type: 'page', ts: clicks[type], vid, sid: `crash-session-${n}`, url: 'https://crash.example/pricing',
      touch: { ts: clicks[type], source, medium: 'cpc', click_id: id, click_id_type: type, landing: 'https://crash.example/pricing', fbp },
    })
    const imported = await fetch(`${proc.url}/v1/import`, { method: 'POST', headers: auth, body: JSON.stringify({ events: [touch(1, 'gclid', GCLID, 'google'), touch(2, 'fbclid', FBCLID, 'facebook'), touch(3, 'li_fat_id', LI_FAT_ID, 'linkedin')] }) })
    expect(imported.status, await imported.text()).toBe(200)
    google.clicks.set(GCLID, clicks.gclid)
    const identified = await fetch(`${proc.url}/v1/identify`, { method: 'POST', headers: auth, body: JSON.stringify({ email: EMAIL, visitorId: vid }) })
    const { leadId } = (await identified.json()) as { leadId: string }
    const wonAt = Date.now() - 1000
    const won = await fetch(`${proc.url}/v1/deals`, { method: 'POST', headers: auth, body: JSON.stringify({ deals: [{ dealId: 'crash-1', leadId, stage: 'won', amount: 7300, ts: wonAt }] }) })
    expect(won.status, await won.text()).toBe(200)

    // Kill the collector while a platform holds its answer; restart; until each platform has been crashed on once.
    const crashed: string[] = []
    while (crashed.length < 3) {
      const [name, gate] = await waitUntil(() => Object.entries(gates).find(([, x]) => x.held && x.parked > 0), 'a delivery in flight', 30_000)
      proc.child.kill('SIGKILL')
      await proc.exited
      crashed.push(name)
      gate.held = false
      proc = await serve()
    }
    expect(crashed.sort()).toEqual(['google', 'linkedin', 'meta'])

    type Report = { destinations: Array<{ kind: string; stages: Array<{ sent: number; pending: number; failed: number }> }> }
    const report = await waitUntil(async () => {
      const r = (await (await fetch(`${proc.url}/v1/reports/destinations`, { headers: auth })).json()) as Report
      return r.destinations.every((d) => d.stages[0]?.sent === 1) && r
    }, 'every conversion sent after the restarts', 30_000)
    expect(report.destinations.map((d) => [d.kind, d.stages.map((s) => [s.sent, s.pending, s.failed])]).sort()).toEqual([
      ['google-ads', [[1, 0, 0]]], ['linkedin', [[1, 0, 0]]], ['meta', [[1, 0, 0]]],
    ])

    // Each platform took the row twice (before the kill and after), with the same ID, and counts it once.
    const googleIds = google.uploads().map((u) => u.conversions.map((c) => c.orderId))
    expect(googleIds).toHaveLength(2)
    expect(googleIds[1]).toEqual(googleIds[0])
    expect([...google.conversions.values()]).toEqual([expect.objectContaining({ gclid: GCLID, conversionValue: 7300, orderId: googleIds[0][0] })])

    const metaIds = meta.requests.filter((q) => q.path.endsWith('/events')).map((q) => (q.body as { data: Array<{ event_id: string }> }).data.map((e) => e.event_id))
    expect(metaIds).toHaveLength(2)
    expect(metaIds[1]).toEqual(metaIds[0])
    expect([...meta.events.values()]).toEqual([expect.objectContaining({
      event_id: metaIds[0][0], event_time: Math.floor(wonAt / 1000),
      user_data: { em: [sha256(EMAIL)], fbc: `fb.1.${clicks.fbclid}.${FBCLID}`, fbp, external_id: [sha256(leadId)] },
    })])

    const liIds = linkedin.requests.filter((q) => q.path === '/rest/conversionEvents').map((q) => (q.body as { elements: Array<{ eventId: string }> }).elements.map((e) => e.eventId))
    expect(liIds).toHaveLength(2)
    expect(liIds[1]).toEqual(liIds[0])
    expect([...linkedin.events.values()]).toEqual([expect.objectContaining({ eventId: liIds[0][0], conversionHappenedAt: wonAt })])

    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  }, 180_000)
})
