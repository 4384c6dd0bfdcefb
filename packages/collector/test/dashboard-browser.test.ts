// The dashboard in real Chromium against a listening server running the real dashboard plugin.
// Screenshots of every view go to test-output/dashboard/ (gitignored).

import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fixtureReport, startFixtureServer, XSS, type FixtureServer } from './dashboard/fixture-server.js'

const pkg = fileURLToPath(new URL('..', import.meta.url))
const shots = fileURLToPath(new URL('../../../test-output/dashboard/', import.meta.url))

let server: FixtureServer
let browser: Browser
let context: BrowserContext
let page: Page
let violations: string[]

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build-dashboard.mjs'], { cwd: pkg })
  mkdirSync(shots, { recursive: true })
  server = await startFixtureServer({ basePath: '/_cl' })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
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
  await p.goto(`${server.url}/dashboard`)
  await p.getByLabel('Secret key').fill(server.key)
  await p.getByRole('button', { name: 'Sign in' }).click()
  await p.locator('#view[data-rendered^="overview"]').waitFor()
}

async function figure(name: string): Promise<number> {
  return Number(await page.locator(`[data-figure="${name}"]`).getAttribute('data-value'))
}

describe('dashboard in Chromium', () => {
  it('refuses a wrong key with a visible error and sets no cookie', async () => {
    await page.goto(`${server.url}/dashboard`)
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
    expect(cookie.value).not.toContain(server.key.slice(3))
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await page.locator('[data-field="site"]').textContent()).toBe(`Shop ${XSS[0]}`)
    const stolen = `cl_dash=${cookie.value}`
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Secret key').waitFor()
    expect(await context.cookies()).toEqual([])
    // The old cookie value is dead on the server, not just deleted in this browser.
    const res = await fetch(`${server.url}/v1/reports/attribution?by=channel`, { headers: { cookie: stolen } })
    expect(res.status).toBe(401)
  })

  it('shows headline figures and channel rows equal to the API report for the same query', async () => {
    await signIn()
    const from = await page.getByLabel('From').inputValue()
    const to = await page.getByLabel('To').inputValue()
    const won = await (await page.request.get(`${server.url}/v1/reports/attribution?model=linear&by=channel&conversion=won&from=${from}&to=${to}`)).json()
    const opp = await (await page.request.get(`${server.url}/v1/reports/attribution?model=linear&by=channel&conversion=opportunity&from=${from}&to=${to}`)).json()
    expect(await figure('spend')).toBe(won.totals.spend)
    expect(await figure('revenue')).toBe(won.totals.revenue)
    expect(await figure('pipeline')).toBe(opp.totals.revenue)
    expect(await figure('roas')).toBe(won.totals.roas)
    expect(await figure('cac')).toBe(won.totals.cac)
    expect(await figure('avgDealSize')).toBe(won.totals.avgDealSize)
    expect(await figure('coverage')).toBe(won.coverage.conversions)
    const keys = await page.locator('table[data-table="channels"] tbody th').allTextContents()
    expect(keys).toEqual(won.rows.map((r: { key: string }) => r.key))
    const revenue = await page.locator('table[data-table="channels"] tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.children[6].getAttribute('data-value'))))
    expect(revenue).toEqual(won.rows.map((r: { revenue: number }) => r.revenue))
    await page.screenshot({ path: `${shots}overview.png`, fullPage: true })
  })

  it('follows the chosen model and date range', async () => {
    await signIn()
    const before = await figure('revenue')
    await page.getByLabel('Attribution model').selectOption('markov')
    await page.locator('#view[data-rendered^="overview:markov"]').waitFor()
    const markov = fixtureReport({ model: 'markov', by: 'channel', conversion: 'won', from: await page.getByLabel('From').inputValue(), to: await page.getByLabel('To').inputValue() })
    expect(await figure('revenue')).toBe(markov.totals.revenue)
    expect(await figure('revenue')).not.toBe(before)
    await page.getByLabel('From').fill('2026-01-01')
    await page.getByLabel('To').fill('2026-01-31')
    await page.locator('#view[data-rendered="overview:markov:2026-01-01:2026-01-31"]').waitFor()
    expect(await figure('revenue')).toBe(fixtureReport({ model: 'markov', by: 'channel', conversion: 'won', from: '2026-01-01', to: '2026-01-31' }).totals.revenue)
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
    await page.screenshot({ path: `${shots}overview-drilldown.png`, fullPage: true })
  })

  it('renders every view with XSS payloads in every tracked field inert', async () => {
    await signIn()
    for (const view of ['trend', 'models', 'quality', 'journey/L-1']) {
      await page.goto(`${server.url}/dashboard/#${view}`)
      await page.locator(`#view[data-rendered^="${view.split('/')[0]}"]`).waitFor()
      if (view.startsWith('journey')) await page.locator('[data-field="lead-id"]').waitFor()
      await page.screenshot({ path: `${shots}${view.split('/')[0]}.png`, fullPage: true })
    }
    const text = await page.locator('#view').textContent()
    for (const payload of XSS.slice(0, 4)) expect(text).toContain(payload)
    expect(await page.locator('[data-trait="name"]').textContent()).toBe(XSS[0])
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect(await page.locator('#app img, #app script, #app svg, #app iframe, #app [onerror], #app [onload]').count()).toBe(0)
    expect(violations).toEqual([])
  })

  it('gives every control an accessible name and reaches views by keyboard', async () => {
    await signIn()
    for (const view of ['overview', 'trend', 'journey']) {
      await page.goto(`${server.url}/dashboard/#${view}`)
      await page.locator(`#view[data-rendered^="${view}"]`).waitFor()
      const unnamed = await page.locator('input, select, button, a[href]').evaluateAll((els) => els.filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
        return !labelled && !(el.textContent ?? '').trim()
      }).map((el) => el.outerHTML))
      expect(unnamed).toEqual([])
    }
    await page.goto(`${server.url}/dashboard/#overview`)
    await page.locator('#view[data-rendered^="overview"]').waitFor()
    await page.locator('nav a[data-view="models"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('#view[data-rendered^="models"]').waitFor()
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Models side by side')
  })

  it('serves the page under a strict CSP and refuses cross-origin sign-in with a coded 403', async () => {
    const res = await fetch(`${server.url}/dashboard/`)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).toContain("require-trusted-types-for 'script'")
    expect(await res.text()).not.toMatch(/<script>|<script [^>]*>[^<]/)
    const cross = await fetch(`${server.url}/dashboard/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ key: server.key }),
    })
    expect(cross.status).toBe(403)
    expect((await cross.json()).error.code).toBe('CL_ERR_CROSS_ORIGIN')
    expect(cross.headers.get('set-cookie')).toBeNull()
    const noOrigin = await fetch(`${server.url}/dashboard/session`, { method: 'DELETE' })
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
