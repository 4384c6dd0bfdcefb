// The dashboard in real Chromium against the real collector (buildApp over a SQLite file in a
// temporary directory, listening on 127.0.0.1 under --base-path /_cl), seeded over HTTP with a small
// business whose tracked text is XSS payloads (dashboard/business.ts). Figures are compared with
// the API's own answer to the same query, fetched with the secret key.
// Screenshots of every view go to test-output/dashboard/ (gitignored).

import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { secret, startTestServer, type TestServer } from '../http/helpers.js'
import { COMPANY, day, LEAD_TOUCHES, PAYLOAD_EMAIL, seedBusiness, shown, type Business } from './dashboard/business.js'
import { VIEW_NAMES, cells, expectAccountMatchesApi, expectRecentLeadsMatchApi, expectViewMatchesApi, pageQuery } from './dashboard/views.js'
import { XSS } from './dashboard/xss.js'

const pkg = fileURLToPath(new URL('../..', import.meta.url))
const shots = fileURLToPath(new URL('../../../../test-output/dashboard/', import.meta.url))

let base: TestServer
let biz: Business
let url: string
let browser: Browser
let context: BrowserContext
let page: Page
let violations: string[]

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build-dashboard.mjs'], { cwd: pkg })
  mkdirSync(shots, { recursive: true })
  base = await startTestServer({ basePath: '/_cl' })
  url = base.url
  biz = await seedBusiness(base)
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})

afterAll(async () => {
  await browser?.close()
  await base?.close()
})

beforeEach(async () => {
  await context?.close()
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  page = await context.newPage()
  violations = []
  page.on('console', (m) => { if (/Content Security Policy|TrustedHTML|Trusted Type/i.test(m.text())) violations.push(m.text()) })
  page.on('pageerror', (e) => violations.push(`pageerror: ${e.message}`))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective}`))
  })
})

async function signIn(p = page): Promise<void> {
  await p.goto(`${url}/dashboard`)
  await p.getByLabel('Secret key').fill(biz.key)
  await p.getByRole('button', { name: 'Sign in' }).click()
  await p.locator('#view[data-rendered^="overview"]').waitFor()
}

async function figure(name: string): Promise<number> {
  return Number(await page.locator(`[data-figure="${name}"]`).getAttribute('data-value'))
}

interface Report { totals: { revenue: number; conversions: number; spend: number; roas: number | null; cac: number | null; avgDealSize: number | null }; coverage: { conversions: number | null }; rows: Array<{ key: string; revenue: number; spend: number }> }

/** The API's own answer, asked with the secret key rather than the browser's session. */
async function report(model: string, conversion: string, from: string, to: string): Promise<Report> {
  const r = await secret(biz.server, `/v1/reports/attribution?model=${model}&by=channel&conversion=${conversion}&from=${from}&to=${to}`)
  expect(r.status).toBe(200)
  return r.body as Report
}

/** The channel table's top-level rows: key → [pipeline, won revenue, spend], in table order. */
async function channelRows(): Promise<Array<[string, number[]]>> {
  return page.locator('table[data-table="channels"] tbody tr[data-depth="0"]').evaluateAll((trs) =>
    trs.map((tr): [string, number[]] => [tr.children[0].textContent ?? '', [4, 6, 7].map((i) => Number(tr.children[i].getAttribute('data-value')))]))
}

/**
 * The same from the API: one row per key of the won or the opportunity report. The table lists
 * the won report's keys by won revenue, then keys with pipeline only (views/overview.ts), so its
 * order is checked as "by won revenue", and the figures key by key.
 */
function expectedRows(won: Report, opp: Report): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const key of new Set([...won.rows, ...opp.rows].map((r) => r.key))) {
    const w = won.rows.find((r) => r.key === key)
    const o = opp.rows.find((r) => r.key === key)
    out[key] = [o?.revenue ?? 0, w?.revenue ?? 0, (w ?? o)?.spend ?? 0]
  }
  return out
}

async function expectTableEqualsApi(won: Report, opp: Report): Promise<Array<[string, number[]]>> {
  const rows = await channelRows()
  expect(Object.fromEntries(rows)).toEqual(expectedRows(won, opp))
  expect(rows).toHaveLength(Object.keys(expectedRows(won, opp)).length)
  const revenue = rows.map(([, [, r]]) => r)
  expect(revenue).toEqual([...revenue].sort((a, b) => b - a))
  return rows
}

describe('dashboard in Chromium', () => {
  it('refuses a wrong key with a visible error and sets no cookie', async () => {
    await page.goto(`${url}/dashboard`)
    await page.getByLabel('Secret key').fill('sk_AAAAAAAAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.locator('#signin-error').textContent()).toBe('That secret key is not valid.')
    expect(await context.cookies()).toEqual([])
    await page.screenshot({ path: `${shots}signin-error.png` })
  })

  it('signs in with an HttpOnly SameSite=Strict opaque cookie and signs out for good', async () => {
    await signIn()
    const [cookie] = await context.cookies()
    expect(cookie).toMatchObject({ name: 'cl_dash', httpOnly: true, sameSite: 'Strict', path: '/_cl/' })
    expect(cookie.value).not.toContain(biz.key.slice(3))
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await page.locator('[data-field="site"]').textContent()).toBe(`Shop ${XSS[0]}`)
    const stolen = `cl_dash=${cookie.value}`
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Secret key').waitFor()
    expect(await context.cookies()).toEqual([])
    // The old cookie value is dead on the server, not just deleted in this browser.
    const res = await fetch(`${url}/v1/reports/attribution?by=channel`, { headers: { cookie: stolen } })
    expect(res.status).toBe(401)
  })

  it('shows headline figures and channel rows equal to the API report for the same query', async () => {
    await signIn()
    const from = await page.getByLabel('From').inputValue()
    const to = await page.getByLabel('To').inputValue()
    const won = await report('linear', 'won', from, to)
    const opp = await report('linear', 'opportunity', from, to)
    // The seed landed: every won deal is in the default range, and spend is matched.
    expect(won.totals.revenue).toBe(biz.won.all)
    expect(won.totals.spend).toBeGreaterThan(0)
    expect(opp.totals.revenue).toBeGreaterThan(won.totals.revenue)
    expect(await figure('spend')).toBe(won.totals.spend)
    expect(await figure('revenue')).toBe(won.totals.revenue)
    expect(await figure('pipeline')).toBe(opp.totals.revenue)
    expect(await figure('roas')).toBe(won.totals.roas)
    expect(await figure('cac')).toBe(won.totals.cac)
    expect(await figure('avgDealSize')).toBe(won.totals.avgDealSize)
    expect(await figure('coverage')).toBe(won.coverage.conversions)
    const rows = await expectTableEqualsApi(won, opp)
    expect(rows.filter(([, [, revenue]]) => revenue > 0).length).toBeGreaterThan(3)
    // Whole counts without decimals; coverage explained where it is shown.
    expect(Number.isInteger(won.totals.conversions)).toBe(true)
    expect(await page.locator('.figure:has([data-figure="revenue"]) dd.note:not(.change):not([data-explain])').textContent()).toBe(`${won.totals.conversions} won deals`)
    expect(await page.locator('[data-explain="coverage"]').textContent()).toMatch(/tracked touch/)
    expect(await page.locator('.figure:has([data-figure="coverage"])').getAttribute('title')).toMatch(/below 100%/)
    // A channel with won deals but no spend has no CAC, not a CAC of 0.
    const unpaid = won.rows.find((r) => r.spend === 0 && r.revenue > 0)
    expect(unpaid).toBeDefined()
    const cacCell = page.locator('table[data-table="channels"] tbody tr[data-depth="0"]', { has: page.locator(`th[data-value="${unpaid?.key}"]`) }).locator('td').nth(8)
    expect([await cacCell.textContent(), await cacCell.getAttribute('data-value')]).toEqual(['—', ''])
    await page.screenshot({ path: `${shots}overview.png`, fullPage: true })
  })

  it('follows the chosen model and date range', async () => {
    await signIn()
    const from = await page.getByLabel('From').inputValue()
    const to = await page.getByLabel('To').inputValue()
    const linear = await channelRows()
    await page.getByLabel('Attribution model').selectOption('markov')
    await page.locator('#view[data-rendered^="overview:markov"]').waitFor()
    const markov = await report('markov', 'won', from, to)
    const rows = await expectTableEqualsApi(markov, await report('markov', 'opportunity', from, to))
    expect(Object.fromEntries(rows)).not.toEqual(Object.fromEntries(linear))
    expect(await figure('revenue')).toBe(markov.totals.revenue)
    await page.getByLabel('From').fill(day(0))
    await page.getByLabel('To').fill(day(20))
    await page.locator(`#view[data-rendered^="overview:markov:${day(0)}:${day(20)}:"]`).waitFor()
    const narrow = await report('markov', 'won', day(0), day(20))
    expect(narrow.totals.revenue).toBe(biz.won.firstDays)
    expect(await figure('revenue')).toBe(narrow.totals.revenue)
    expect(await figure('spend')).toBe(narrow.totals.spend)
    expect(narrow.totals.spend).toBeLessThan(markov.totals.spend)
    await expectTableEqualsApi(narrow, await report('markov', 'opportunity', day(0), day(20)))
  })

  it('drills down by keyboard and exports exactly the visible table as CSV', async () => {
    await signIn()
    const drill = page.locator('table[data-table="channels"] button.drill').first()
    await drill.focus()
    await page.keyboard.press('Enter')
    await page.locator('tr[data-depth="1"]').first().waitFor()
    expect(await drill.getAttribute('aria-expanded')).toBe('true')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Space')
    await page.locator('tr[data-depth="2"]').first().waitFor()
    // Visible focus: the focused drill button gets an outline.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)
    expect(outline).toBe('solid')
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('button[data-csv="channels"]').click()])
    const csv = readFileSync((await download.path()) as string, 'utf8')
    const lines = parseCsv(csv)
    const table = await page.locator('table[data-table="channels"] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute('data-depth') ?? '', ...[...tr.children].map((c) => c.getAttribute('data-value') ?? '')]))
    const header = await page.locator('table[data-table="channels"] thead th').allTextContents()
    expect(lines[0]).toEqual(['level', ...header])
    const neutral = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v)
    expect(lines.slice(1)).toEqual(table.map((r) => r.map(neutral)))
    expect(lines.some((l) => l[0] === '2')).toBe(true)
    // The top channel's first source carries a formula campaign: exported inert, shown as sent.
    expect(lines.flat()).toContain(`'${XSS[5]}`)
    expect(table.flat()).toContain(XSS[5])
    await page.screenshot({ path: `${shots}overview-drilldown.png`, fullPage: true })
  })

  it('reaches every view from every other view and by URL, error-free and equal to the API', async () => {
    await signIn()
    for (const target of VIEW_NAMES) {
      for (const source of VIEW_NAMES.filter((v) => v !== target)) {
        await page.goto(`${url}/dashboard/#${source}`)
        await expectViewMatchesApi(page, biz, source)
        await page.locator(`nav a[data-view="${target}"]`).click()
        await expectViewMatchesApi(page, biz, target)
      }
      const hash = target === 'journey' ? `journey/${biz.leadId}` : target
      await page.goto(`${url}/dashboard/#${hash}`)
      await page.reload()
      await expectViewMatchesApi(page, biz, target, target === 'journey' ? biz.leadId : undefined)
    }
    expect(violations).toEqual([])
  })

  it('lists the newest leads on the journey view, each a link to its journey kept in the URL', async () => {
    await signIn()
    await page.locator('nav a[data-view="journey"]').click()
    await expectViewMatchesApi(page, biz, 'journey')
    const leads = await expectRecentLeadsMatchApi(page, biz)
    // Newest first: the API's order is by identify time, and the seed's leads were identified on different days.
    const times = leads.map((l) => l.identifiedAt as number)
    expect(times).toEqual([...times].sort((a, b) => b - a))
    expect(leads.map((l) => l.email)).toEqual(expect.arrayContaining([biz.leadEmail, PAYLOAD_EMAIL]))
    await page.screenshot({ path: `${shots}journey-recent.png`, fullPage: true })
    await page.locator('table[data-table="recent-leads"] a', { hasText: biz.leadEmail }).click()
    await expectViewMatchesApi(page, biz, 'journey', biz.leadId)
    expect(new URL(page.url()).hash).toBe(`#journey/${biz.leadId}`)
    await page.reload()
    await expectViewMatchesApi(page, biz, 'journey', biz.leadId)
    await page.goBack()
    await page.locator('table[data-table="recent-leads"]').waitFor()
    expect(new URL(page.url()).hash).toBe('#journey')
    expect(violations).toEqual([])
  })

  it("marks each touch of a journey as the visitor's (up to identify) or the lead's (after)", async () => {
    await signIn()
    await page.goto(`${url}/dashboard/#journey/${biz.nurturedLeadId}`)
    const table = page.locator(`table[data-table="lead-${biz.nurturedLeadId}-touches"]`)
    await table.waitFor()
    const lead = (await secret(biz.server, `/v1/leads/${biz.nurturedLeadId}`)).body
    const shownRows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 3).map((c) => c.getAttribute('data-value'))))
    const phase = (ts: number): string => (ts > lead.lead.identifiedAt ? 'lead' : 'visitor')
    expect(shownRows).toEqual(lead.touches.map((t: { ts: number; channel: string }) => [new Date(t.ts).toISOString(), phase(t.ts), t.channel]))
    expect(shownRows.map((r) => r[1])).toEqual(['visitor', 'lead'])
    expect(violations).toEqual([])
  })

  it('finds a lead by e-mail, keeping only its ID in the URL, and says so when none has it', async () => {
    await signIn()
    await page.goto(`${url}/dashboard/#journey`)
    await page.locator('table[data-table="recent-leads"]').waitFor()
    const search = page.getByLabel('Find a lead by e-mail')
    // Trimmed and lower-cased like identify's match key.
    await search.fill(` ${biz.leadEmail.toUpperCase()} `)
    await page.getByRole('button', { name: 'Find', exact: true }).click()
    await expectViewMatchesApi(page, biz, 'journey', biz.leadId)
    expect(new URL(page.url()).hash).toBe(`#journey/${biz.leadId}`)
    const lead = (await secret(biz.server, `/v1/leads/${biz.leadId}`)).body
    const touches = await page.locator(`table[data-table="lead-${biz.leadId}-touches"] tbody tr`).evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.getAttribute('data-value'))))
    expect(touches).toEqual(lead.touches.map((t: Record<string, string | number | null>) =>
      [new Date(t.ts as number).toISOString(), t.ts! > lead.lead.identifiedAt ? 'lead' : 'visitor', t.channel, t.source, t.medium, t.campaign, t.term, t.content, t.click_id_type, t.referrer, t.landing, t.visitorId].map((v) => v ?? '')))
    expect(touches).toHaveLength(LEAD_TOUCHES.length)

    // Unknown: a plain message, no error, the URL and the page as they were.
    await search.fill('nobody@example.com')
    await page.getByRole('button', { name: 'Find', exact: true }).click()
    await expect.poll(() => page.locator('[data-field="search-status"]').textContent()).toBe('No lead with this e-mail.')
    expect(await page.locator('#app .error, #app [role="alert"]').count()).toBe(0)
    expect(new URL(page.url()).hash).toBe(`#journey/${biz.leadId}`)
    expect(await page.locator('[data-field="lead-id"]').textContent()).toBe(biz.leadId)
    await page.screenshot({ path: `${shots}journey-not-found.png`, fullPage: true })
    // Not an address at all: the collector's CL_ERR_BAD_EMAIL, said plainly.
    await search.fill('not-an-address')
    await page.getByRole('button', { name: 'Find', exact: true }).click()
    await expect.poll(() => page.locator('[data-field="search-status"]').textContent()).toBe('That is not an e-mail address.')

    // An address that is markup finds its lead and shows as text.
    await search.fill(PAYLOAD_EMAIL)
    await page.getByRole('button', { name: 'Find', exact: true }).click()
    await expectViewMatchesApi(page, biz, 'journey', biz.payloadLeadId)
    expect(await page.locator('[data-field="lead-email"]').textContent()).toBe(PAYLOAD_EMAIL)
    expect(decodeURIComponent(page.url())).not.toContain('@')
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect(violations).toEqual([])
  })

  it('opens a lead\'s account from its journey by clicking and by URL, every row equal to the API', async () => {
    await signIn()
    const [gil, ivy, hal] = biz.account.leadIds
    await page.goto(`${url}/dashboard/#journey/${gil}?conversion=opportunity`)
    await expectViewMatchesApi(page, biz, 'journey', gil)
    await page.getByRole('link', { name: `Account: ${COMPANY}`, exact: true }).click()
    const a = await expectAccountMatchesApi(page, biz, biz.account.id)
    // The report query rides along, as between the other views.
    expect(new URL(page.url()).hash).toBe(`#account/${biz.account.id}?conversion=opportunity`)
    expect(a.account).toMatchObject({ name: COMPANY, source: 'crm' })
    expect(a.leads.map((l) => l.id).sort()).toEqual([gil, ivy, hal].sort())
    // Interleaved: every contact's touches in one table in time order, not contact by contact.
    const owners = a.touches.map((t) => t.leadId)
    expect(a.touches.map((t) => t.ts)).toEqual(a.touches.map((t) => t.ts).sort((x, y) => x - y))
    expect(owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length).toBeGreaterThan(2)
    expect(a.touches).toHaveLength(6)
    // Ivy's newsletter visit after she identified is the lead's; every other touch the visitor's.
    const shownPhases = (await cells(page, 'account-touches')).map((r) => `${r[1]} ${r[2]}`)
    expect(shownPhases.filter((p) => p.endsWith(' lead'))).toEqual(['ivy@globex.example lead'])
    expect(a.deals).toHaveLength(1)
    expect(a.deals[0].leadIds).toHaveLength(2)
    expect(await page.locator('table[data-table="account-deals"] tbody td').last().textContent()).toBe('hal@globex.example, gil@globex.example')
    await page.screenshot({ path: `${shots}account.png`, fullPage: true })
    await page.reload()
    await expectAccountMatchesApi(page, biz, biz.account.id)
    // Each contact leads back to its journey.
    await page.locator('table[data-table="account-contacts"] a', { hasText: 'ivy@globex.example' }).click()
    await expectViewMatchesApi(page, biz, 'journey', ivy)

    // An e-mail-domain account: the first lead's colleagues at example.com, with their own deals.
    await page.goto(`${url}/dashboard/#journey/${biz.leadId}`)
    await expectViewMatchesApi(page, biz, 'journey', biz.leadId)
    await page.getByRole('link', { name: 'Account: example.com', exact: true }).click()
    await page.locator('#view[data-rendered^="account:"]').waitFor()
    const domainId = new URL(page.url()).hash.replace('#account/', '')
    const d = await expectAccountMatchesApi(page, biz, domainId)
    expect(d.account).toMatchObject({ domain: 'example.com', source: 'domain' })
    expect(d.leads.map((l) => l.email)).toEqual(expect.arrayContaining([biz.leadEmail, 'bo@example.com', 'cy@example.com', 'di@example.com']))
    expect(d.deals.length).toBeGreaterThan(3)
    expect(violations).toEqual([])
  })

  it('says plainly that an unknown account ID has no account, with no error', async () => {
    await signIn()
    for (const id of ['acc_doesNotExist123', 'not-an-account-id']) {
      await page.goto(`${url}/dashboard/#account/${id}`)
      await page.reload()
      await page.locator(`#view[data-rendered^="account:"][data-id="${id}"]`).waitFor()
      expect(await page.locator('[data-field="account-status"]').textContent(), id).toBe('No account with that ID.')
      expect(await page.locator('#app .error, #app [role="alert"]').count(), id).toBe(0)
      expect(await page.locator('table[data-table^="account-"]').count(), id).toBe(0)
    }
    await page.screenshot({ path: `${shots}account-not-found.png`, fullPage: true })
    await page.locator('a[data-link="recent-leads"]').click()
    await page.locator('table[data-table="recent-leads"]').waitFor()
  })

  it('shows the funnel by channel and by campaign, every cell equal to the API', async () => {
    await signIn()
    await page.locator('nav a[data-view="funnel"]').click()
    await expectViewMatchesApi(page, biz, 'funnel')
    const steps = ['Lead → MQL', 'MQL → SQL', 'SQL → Opp.', 'Opp. → Won']
    expect(await page.locator('table[data-table="funnel"] thead th').allTextContents()).toEqual(['Channel', 'Leads', 'MQL', 'SQL', 'Opportunities', 'Won', ...steps])
    expect(await page.locator('table[data-table="funnel-days"] thead th').allTextContents()).toEqual(['Channel', ...steps])
    await page.screenshot({ path: `${shots}funnel-channel.png`, fullPage: true })
    await page.getByLabel('Group by').selectOption('campaign')
    await page.locator('#view[data-rendered^="funnel:"][data-id="campaign"]').waitFor()
    expect(new URL(page.url()).hash).toMatch(/^#funnel\/campaign/)
    await expectViewMatchesApi(page, biz, 'funnel')
    // The grouping survives a reload; the campaign rows are the API's, payloads shown as text.
    await page.reload()
    await page.locator('#view[data-rendered^="funnel:"][data-id="campaign"]').waitFor()
    await expectViewMatchesApi(page, biz, 'funnel')
    expect(await page.locator('table[data-table="funnel"] tbody th').allTextContents()).toContain(XSS[5])
    await page.screenshot({ path: `${shots}funnel-campaign.png`, fullPage: true })
    expect(violations).toEqual([])
  })

  it('shows marketing-sourced and -influenced revenue with their definitions one click away', async () => {
    await signIn()
    await expectViewMatchesApi(page, biz, 'overview')
    for (const [id, label, words] of [['marketingSourcedRevenue', 'Marketing-sourced revenue', 'at or before the lead was created'], ['marketingInfluencedRevenue', 'Marketing-influenced revenue', 'before the deal closed']]) {
      const tile = page.locator('.figure', { has: page.locator(`[data-figure="${id}"]`) })
      expect(await tile.locator('dt').textContent()).toBe(label)
      const definition = page.locator(`[data-definition="${id}"]`)
      expect(await definition.isVisible()).toBe(false)
      await tile.getByText('What is this?').click()
      expect(await definition.isVisible()).toBe(true)
      expect(await definition.textContent()).toContain(words)
    }
    await page.locator('dl.kpis').screenshot({ path: `${shots}overview-kpis.png` })
    await page.screenshot({ path: `${shots}overview-kpis-page.png`, fullPage: true })
  })

  it('chooses the journey mode, kept in the URL and sent to the reports that take it', async () => {
    await signIn()
    const sent: string[] = []
    page.on('request', (r) => { if (r.url().includes('/v1/reports/')) sent.push(r.url()) })
    await page.getByLabel('Journey', { exact: true }).selectOption('account')
    await page.locator('#view[data-rendered^="overview:"][data-journey="account"]').waitFor()
    expect(new URL(page.url()).hash).toMatch(/^#overview\?.*journey=account/)
    await expectViewMatchesApi(page, biz, 'overview')
    for (const view of ['models', 'trend', 'funnel', 'quality'] as const) {
      await page.locator(`nav a[data-view="${view}"]`).click()
      await page.locator(`#view[data-rendered^="${view}:"][data-journey="account"]`).waitFor()
      await expectViewMatchesApi(page, biz, view)
    }
    await page.reload()
    await page.locator('#view[data-rendered^="quality:"][data-journey="account"]').waitFor()
    expect(await page.getByLabel('Journey', { exact: true }).inputValue()).toBe('account')
    const by = (path: string) => sent.filter((u) => new URL(u).pathname.endsWith(path))
    for (const path of ['attribution', 'models', 'series', 'funnel']) {
      expect(by(path).length, path).toBeGreaterThan(0)
      for (const u of by(path)) expect(new URL(u).searchParams.get('journey'), u).toBe('account')
    }
    // The quality report takes no journey (its schema is strict).
    for (const u of by('quality')) expect(new URL(u).searchParams.has('journey'), u).toBe(false)
    await page.getByLabel('Journey', { exact: true }).selectOption('')
    await page.locator('#view[data-rendered^="quality:"][data-journey=""]').waitFor()
    expect(new URL(page.url()).hash).not.toMatch(/journey=/)
    expect(violations).toEqual([])
  })

  it('shows each headline figure’s change against the previous period of the same length', async () => {
    await signIn()
    // Days 21–41 against days 0–20: both hold won deals and spend (business.ts).
    await page.getByLabel('From').fill(day(21))
    await page.getByLabel('To').fill(day(41))
    await page.locator(`#view[data-rendered^="overview:linear:${day(21)}:${day(41)}:"]`).waitFor()
    const [won, opp] = [await report('linear', 'won', day(21), day(41)), await report('linear', 'opportunity', day(21), day(41))]
    const [prevWon, prevOpp] = [await report('linear', 'won', day(0), day(20)), await report('linear', 'opportunity', day(0), day(20))]
    expect([won.totals.revenue, prevWon.totals.revenue]).toEqual([biz.won.all - biz.won.firstDays, biz.won.firstDays])
    const pairs: Array<[string, number | null, number | null]> = [
      ['revenue', won.totals.revenue, prevWon.totals.revenue], ['spend', won.totals.spend, prevWon.totals.spend],
      ['pipeline', opp.totals.revenue, prevOpp.totals.revenue], ['roas', won.totals.roas, prevWon.totals.roas],
    ]
    for (const [id, now, before] of pairs) {
      expect(await figure(id)).toBe(now)
      const el = page.locator(`[data-change="${id}"]`)
      expect(Number(await el.getAttribute('data-previous')), id).toBe(before)
      const p = Math.round(((now as number) - (before as number)) / (before as number) * 100)
      expect(await el.textContent(), id).toBe(`${p > 0 ? '+' : p < 0 ? '−' : '±'}${Math.abs(p)}% vs previous 21 days`)
    }
    expect(await page.locator('[data-change="revenue"]').textContent()).toBe('−33% vs previous 21 days')
    await page.screenshot({ path: `${shots}overview-change.png`, fullPage: true })
  })

  it('chooses the conversion type and lookback, kept in the URL through views, reload and back', async () => {
    await signIn()
    const start = page.url()
    await page.getByLabel('Conversion').selectOption('opportunity')
    await page.locator('#view[data-rendered^="overview:linear:"][data-rendered$=":opportunity:"]').waitFor()
    await page.getByLabel('Lookback').selectOption('7')
    await page.locator('#view[data-rendered$=":opportunity:7"]').waitFor()
    expect(new URL(page.url()).hash).toMatch(/^#overview\?(?=.*conversion=opportunity)(?=.*lookbackDays=7)/)
    await expectViewMatchesApi(page, biz, 'overview')
    const { from, to } = await pageQuery(page)
    // The choice matters: the API's figures differ from the defaults' (else the check proves nothing).
    const chosen = (await secret(biz.server, `/v1/reports/attribution?by=channel&conversion=opportunity&lookbackDays=7&from=${from}&to=${to}`)).body
    const defaults = (await secret(biz.server, `/v1/reports/attribution?by=channel&from=${from}&to=${to}`)).body
    expect(chosen.rows).not.toEqual(defaults.rows)
    expect(await page.locator('[data-figure="revenue"]').getAttribute('data-value')).toBe(String(chosen.totals.revenue))
    for (const view of ['models', 'trend'] as const) {
      await page.locator(`nav a[data-view="${view}"]`).click()
      await page.locator(`#view[data-rendered^="${view}:"][data-rendered$=":opportunity:7"]`).waitFor()
      await expectViewMatchesApi(page, biz, view)
    }
    await page.reload()
    await page.locator('#view[data-rendered^="trend:"][data-rendered$=":opportunity:7"]').waitFor()
    expect([await page.getByLabel('Conversion').inputValue(), await page.getByLabel('Lookback').inputValue()]).toEqual(['opportunity', '7'])
    await page.goBack()
    await page.locator('#view[data-rendered^="models:"][data-rendered$=":opportunity:7"]').waitFor()
    await page.goBack()
    await page.goBack()
    await page.locator('#view[data-rendered^="overview:"][data-rendered$=":opportunity:"]').waitFor()
    expect(await page.getByLabel('Lookback').inputValue()).toBe('')
    await expectViewMatchesApi(page, biz, 'overview')
    await page.goBack()
    await page.locator('#view[data-rendered^="overview:"][data-rendered$=":won:"]').waitFor()
    expect(page.url()).toBe(start)
  })

  it('renders every view with XSS payloads in every tracked field inert', async () => {
    await signIn()
    const views: Array<[string, readonly string[]]> = [
      // Overview, drilled down twice: sources and campaigns of the top channel.
      ['overview', [XSS[0], XSS[3], XSS[5]]],
      ['trend', []],
      ['models', []],
      // Campaigns of the leads' original touches.
      ['funnel/campaign', [XSS[5], XSS[3]]],
      // The untagged paid source.
      ['quality', [XSS[3]]],
      // The recent leads: a markup e-mail, and the first touch's source and campaign.
      ['journey', [PAYLOAD_EMAIL, `${XSS[0]} / cpc`, XSS[5]]],
      // The company's name, its contacts' original sources, their touches and the deal's ID.
      [`account/${biz.account.id}`, [COMPANY, `${XSS[0]} / cpc`, XSS[5], `GX-${XSS[5]}`, `${XSS[1]} / referral`, `newsletter / ${XSS[1]}`]],
      // Every touch field, traits (nested too) and deal IDs of one lead.
      [`journey/${biz.leadId}`, XSS],
    ]
    for (const [view, payloads] of views) {
      const name = view.split('/')[0]
      await page.goto(`${url}/dashboard/#${view}`)
      await page.reload()
      await page.locator(`#view[data-rendered^="${name}"]`).waitFor()
      if (name === 'overview') {
        await page.locator('tr[data-depth="0"] button.drill').first().click()
        await page.locator('tr[data-depth="1"] button.drill').first().click()
        await page.locator('tr[data-depth="2"]').first().waitFor()
      }
      if (view === 'journey') await page.locator('table[data-table="recent-leads"]').waitFor()
      else if (name === 'journey') await page.locator('[data-field="lead-id"]').waitFor()
      else if (name === 'account') await page.locator('[data-field="account-id"]').waitFor()
      if (name === 'trend') await page.locator('.chart canvas').first().waitFor()
      if (name === 'quality') {
        const api = (await secret(biz.server, `/v1/reports/quality?from=${await page.getByLabel('From').inputValue()}&to=${await page.getByLabel('To').inputValue()}`)).body
        expect(api.duplicateLeads).toHaveLength(1)
        expect([await figure('paidTouches'), await figure('rejected'), await figure('utmCompleteness')]).toEqual([api.paidTouches, 1, api.utmCompleteness])
        expect(await page.locator('table[data-table="untagged-paid"] tbody th').allTextContents()).toEqual(api.untaggedPaid.map((u: { source: string }) => u.source))
      }
      // overview.png is the undrilled overview of the headline test.
      await page.screenshot({ path: `${shots}${name === 'overview' ? 'overview-payloads' : view === 'journey' ? 'journey-recent-payloads' : name === 'account' ? 'account-payloads' : name}.png`, fullPage: true })
      const text = await page.locator('#view').textContent() ?? ''
      for (const payload of payloads) expect(text, `${name} shows ${payload}`).toContain(payload)
      expect(await page.locator('#app img, #app script, #app svg, #app iframe, #app [onerror], #app [onload], #app a[href^="javascript"]').count()).toBe(0)
      expect(await page.locator('[data-field="site"]').textContent()).toBe(`Shop ${XSS[0]}`)
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), name).toBeUndefined()
    }
    expect(await page.locator('[data-trait="name"]').textContent()).toBe(XSS[0])
    expect(await page.locator('[data-trait="company"]').textContent()).toBe(XSS[1])
    expect(await page.locator('[data-trait="note"]').textContent()).toBe(JSON.stringify({ nested: XSS[3] }))
    const deals = await page.locator(`table[data-table="lead-${biz.leadId}-deals"] tbody th`).allTextContents()
    expect(deals).toEqual([XSS[4]])
    // Each tracked field of each touch, exactly as it was sent, as text.
    const touches = await page.locator(`table[data-table="lead-${biz.leadId}-touches"] tbody tr`).evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].slice(3, 11).map((td) => td.textContent)))
    expect(touches).toEqual(LEAD_TOUCHES.map(shown))
    expect(violations).toEqual([])
  })

  it('gives every control an accessible name and reaches views by keyboard', async () => {
    await signIn()
    for (const view of ['overview', 'trend', 'journey']) {
      await page.goto(`${url}/dashboard/#${view}`)
      await page.locator(`#view[data-rendered^="${view}"]`).waitFor()
      const unnamed = await page.locator('input, select, button, a[href]').evaluateAll((els) => els.filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
        return !labelled && !(el.textContent ?? '').trim()
      }).map((el) => el.outerHTML))
      expect(unnamed).toEqual([])
    }
    await page.goto(`${url}/dashboard/#overview`)
    await page.locator('#view[data-rendered^="overview"]').waitFor()
    await page.locator('nav a[data-view="models"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('#view[data-rendered^="models"]').waitFor()
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Models side by side')
  })

  it('serves the page under a strict CSP and refuses cross-origin sign-in with a coded 403', async () => {
    const res = await fetch(`${url}/dashboard/`)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).toContain("require-trusted-types-for 'script'")
    expect(await res.text()).not.toMatch(/<script>|<script [^>]*>[^<]/)
    const cross = await fetch(`${url}/dashboard/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ key: biz.key }),
    })
    expect(cross.status).toBe(403)
    expect((await cross.json()).error.code).toBe('CL_ERR_CROSS_ORIGIN')
    expect(cross.headers.get('set-cookie')).toBeNull()
    const noOrigin = await fetch(`${url}/dashboard/session`, { method: 'DELETE' })
    expect(noOrigin.status).toBe(403)
  })
})

/** Minimal RFC 4180 reader for the test's own check of the export. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++ } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') { row.push(cell); cell = '' }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++ }
    else cell += c
  }
  return rows
}
