// Checks one rendered dashboard view against the API: no error shown, and the figures in its
// headline and table cells (their data-value) equal to the same report fetched with the secret key.
// The query is read back from the page's own filters, so whatever the user chose is what is compared.

import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { secret } from '../../http/helpers.js'
import type { Business } from './business.js'

export const VIEW_NAMES = ['overview', 'trend', 'models', 'funnel', 'journey', 'quality'] as const
export type ViewName = (typeof VIEW_NAMES)[number]

async function api(biz: Business, path: string): Promise<any> {
  const r = await secret(biz.server, path)
  expect(r.status, `${path}: ${r.text}`).toBe(200)
  return r.body
}

/** The report query the page's filters hold (journey has none: the defaults stay in the state). */
export async function pageQuery(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {}
    for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('form.filters [name]')) {
      if (['model', 'from', 'to', 'conversion', 'lookbackDays', 'journey'].includes(el.name) && el.value) out[el.name] = el.value
    }
    return out
  })
}

const qs = (params: Record<string, string | undefined>) =>
  Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`).join('&')

/** data-value of every cell of a table's top-level rows, the row key first. */
export async function cells(page: Page, table: string): Promise<string[][]> {
  return page.locator(`table[data-table="${table}"] tbody tr[data-depth="0"]`).evaluateAll((trs) =>
    trs.map((tr) => [...tr.children].map((c) => c.getAttribute('data-value') ?? '')))
}

interface LeadSummary { id: string; email: string | null; identifiedAt: number | null; touchCount: number; firstTouch: { channel: string; source: string; medium: string } | null }

/**
 * The journey view without a lead: its recent list equals GET /v1/leads?limit=20 (the dashboard
 * asks for 20) row by row, in the API's order, and each e-mail links to that lead's journey.
 */
export async function expectRecentLeadsMatchApi(page: Page, biz: Business): Promise<LeadSummary[]> {
  const { leads } = await api(biz, '/v1/leads?limit=20') as { leads: LeadSummary[] }
  expect(leads.length).toBeGreaterThan(3)
  const rows = await page.locator('table[data-table="recent-leads"] tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    cells: [...tr.children].map((c) => c.getAttribute('data-value') ?? ''),
    href: tr.querySelector('a')?.getAttribute('href') ?? '',
  })))
  expect(rows.map((r) => r.cells[0])).toEqual(leads.map((l) => l.email ?? ''))
  expect(rows.map((r) => [r.cells[2], r.cells[3], Number(r.cells[5]), r.cells[6]])).toEqual(leads.map((l) =>
    [l.firstTouch?.channel ?? '', l.firstTouch ? `${l.firstTouch.source} / ${l.firstTouch.medium}` : '', l.touchCount, l.id]))
  expect(rows.map((r) => r.href.replace(/\?.*/, ''))).toEqual(leads.map((l) => `#journey/${encodeURIComponent(l.id)}`))
  return leads
}

/** Waits for the view, fails on any error it shows, and compares its figures with the API's. */
export async function expectViewMatchesApi(page: Page, biz: Business, view: ViewName, leadId?: string): Promise<void> {
  await page.locator(`#view[data-rendered^="${view}:"]`).waitFor()
  const errors = await page.locator('#app .error, #app [role="alert"]').allTextContents()
  expect(errors.filter((t) => t.trim() !== ''), `${view} shows an error`).toEqual([])
  expect(await page.locator('nav a[aria-current="page"]').getAttribute('data-view')).toBe(view)
  const q = await pageQuery(page)
  const common = { from: q.from, to: q.to, conversion: q.conversion, lookbackDays: q.lookbackDays, journey: q.journey }
  if (view === 'overview') {
    const won = await api(biz, `/v1/reports/attribution?${qs({ ...common, model: q.model, by: 'channel' })}`)
    const figure = async (id: string) => page.locator(`[data-figure="${id}"]`).getAttribute('data-value')
    expect(await figure('revenue')).toBe(String(won.totals.revenue))
    expect(await figure('spend')).toBe(String(won.totals.spend))
    const rows = await cells(page, 'channels')
    expect(rows.map((r) => r[0]).sort()).toEqual(expect.arrayContaining(won.rows.map((r: { key: string }) => r.key).sort()))
    for (const r of won.rows) expect(rows.find((c) => c[0] === r.key)?.[6], `revenue of ${r.key}`).toBe(String(r.revenue))
    expect(won.totals.revenue).toBeGreaterThan(0)
    // The B2B tiles: the won report's kpis, each with its definition behind one click.
    for (const id of ['marketingSourcedRevenue', 'marketingInfluencedRevenue']) {
      expect(await figure(id), id).toBe(String(won.kpis[id]))
      expect(await page.locator(`[data-definition="${id}"]`).isVisible(), `${id} definition folded`).toBe(false)
    }
    expect(won.kpis.marketingInfluencedRevenue).toBeGreaterThan(0)
  } else if (view === 'trend') {
    const s = await api(biz, `/v1/reports/series?${qs({ ...common, model: q.model, period: 'week' })}`)
    const rows = await cells(page, 'revenue-by-week')
    expect(rows).toEqual(s.periods.map((p: string, j: number) => [p, ...s.channels.map((c: { revenue: number[] }) => String(c.revenue[j] ?? 0))]))
    expect(rows.length).toBeGreaterThan(0)
  } else if (view === 'models') {
    const m = await api(biz, `/v1/reports/models?${qs({ ...common, by: 'channel' })}`)
    for (const [table, what] of [['models-revenue', 'revenue'], ['models-conversions', 'conversions']] as const) {
      const rows = await cells(page, table)
      expect(rows).toEqual(m.rows.map((r: { key: string; models: Record<string, Record<string, number>> }) =>
        [r.key, ...m.models.map((name: string) => String(r.models[name]?.[what] ?? 0))]))
    }
    expect(m.rows.length).toBeGreaterThan(1)
    // Fractional credit keeps two decimals, whole counts none.
    const shown = await page.locator('table[data-table="models-conversions"] tbody td').evaluateAll((tds) =>
      tds.map((td): [number, string] => [Number(td.getAttribute('data-value')), td.textContent ?? '']))
    for (const [value, text] of shown) expect(text, String(value)).toBe(Number.isInteger(Math.round(value * 100) / 100) ? String(Math.round(value)) : String(Math.round(value * 100) / 100))
    expect(shown.some(([v]) => !Number.isInteger(v))).toBe(true)
  } else if (view === 'funnel') {
    const by = (await page.locator('#view').getAttribute('data-id')) || 'channel'
    expect(await page.locator('#funnel-by').inputValue()).toBe(by)
    const f = await api(biz, `/v1/reports/funnel?${qs({ by, from: q.from, to: q.to, journey: q.journey })}`)
    const value = (v: number | null) => (v === null ? '' : String(v))
    type Row = { key: string; counts: Record<string, number>; steps: Array<{ rate: number | null; medianDays: number | null }> }
    // Every cell: key, the five counts and each step's rate; then each step's median days; the total last.
    expect(await cells(page, 'funnel')).toEqual([...f.rows, f.total].map((r: Row) =>
      [r.key, ...f.stages.map((s: string) => String(r.counts[s])), ...r.steps.map((s) => value(s.rate))]))
    expect(await cells(page, 'funnel-days')).toEqual([...f.rows, f.total].map((r: Row) => [r.key, ...r.steps.map((s) => value(s.medianDays))]))
    for (const s of f.stages) expect(await page.locator(`[data-figure="funnel-${s}"]`).getAttribute('data-value'), s).toBe(String(f.total.counts[s]))
    expect(f.total.counts.won).toBeGreaterThan(0)
  } else if (view === 'journey') {
    if (leadId) {
      // The view may still show the lead before (a search changes the hash; the render is async).
      await page.locator(`[data-field="lead-id"]:text-is("${leadId}")`).waitFor()
      const lead = await api(biz, `/v1/leads/${leadId}`)
      expect(await page.locator('[data-field="lead-id"]').textContent()).toBe(lead.lead.id)
      expect(await page.locator('[data-field="lead-email"]').textContent()).toBe(lead.lead.email)
      expect(await page.locator(`table[data-table="lead-${leadId}-touches"] tbody tr`).count()).toBe(lead.touches.length)
      const deals = await cells(page, `lead-${leadId}-deals`)
      expect(deals.map((d) => [d[0], d[2]])).toEqual(lead.deals.map((d: { dealId: string; amount: number }) => [d.dealId, String(d.amount)]))
    } else {
      await expectRecentLeadsMatchApi(page, biz)
    }
  } else {
    const r = await api(biz, `/v1/reports/quality?${qs({ from: q.from, to: q.to })}`)
    const figure = async (id: string) => Number(await page.locator(`[data-figure="${id}"]`).getAttribute('data-value'))
    expect([await figure('paidTouches'), await figure('utmCompleteness')]).toEqual([r.paidTouches, r.utmCompleteness])
    expect((await cells(page, 'untagged-paid')).map((c) => Number(c[3]))).toEqual(r.untaggedPaid.map((u: { touches: number }) => u.touches))
    type WriteBacks = { sent: number; pending: number; failed: number; lastError: string | null }
    const crm = await api(biz, '/v1/crm/connections') as { connections: Array<{ kind: string; id: string; lastEventAt: number | null; lastSyncAt: number | null; errors: number; lastError: string | null; writeBacks: WriteBacks }> }
    expect(crm.connections.length).toBeGreaterThan(0)
    expect(crm.connections.some((c) => c.writeBacks.sent > 0 && c.writeBacks.pending > 0 && c.writeBacks.failed > 0)).toBe(true)
    expect(await cells(page, 'crm-connections')).toEqual(crm.connections.map((c) => [
      c.kind, c.id, String(c.lastEventAt ?? 0), String(c.lastSyncAt ?? 0), String(c.errors), expect.stringContaining(c.lastError ?? ''),
      String(c.writeBacks.sent), String(c.writeBacks.pending), String(c.writeBacks.failed), expect.stringContaining(c.writeBacks.lastError ?? ''),
    ]))
  }
}

interface AccountApi {
  account: { id: string; name: string | null; domain: string | null; source: string }
  leadCount: number
  leads: Array<Omit<LeadSummary, 'firstTouch'> & { firstTouch: { channel: string; source: string; medium: string; campaign: string | null } | null }>
  touches: Array<{ leadId: string; ts: number; channel: string; source: string; medium: string; campaign: string | null; landing: string | null }>
  deals: Array<{ dealId: string; stage: string; amount: number | null; leadIds: string[] }>
}

/**
 * The account view of `accountId`, error-free and equal to GET /v1/accounts/{id}: the header, every
 * contact row (each linking to its journey), every interleaved touch row and every deal row.
 */
export async function expectAccountMatchesApi(page: Page, biz: Business, accountId: string): Promise<AccountApi> {
  await page.locator(`#view[data-rendered^="account:"][data-id="${accountId}"]`).waitFor()
  const errors = await page.locator('#app .error, #app [role="alert"]').allTextContents()
  expect(errors.filter((t) => t.trim() !== ''), 'account shows an error').toEqual([])
  const a = await api(biz, `/v1/accounts/${accountId}`) as AccountApi
  const field = (name: string) => page.locator(`[data-field="${name}"]`)
  expect(await field('account-name').textContent()).toBe(a.account.name ?? a.account.domain)
  expect(await field('account-source').getAttribute('data-value')).toBe(a.account.source)
  expect(await field('account-source').textContent()).toBe(a.account.source === 'crm' ? 'CRM company' : 'E-mail domain')
  expect(await field('account-domain').count()).toBe(a.account.domain ? 1 : 0)
  if (a.account.domain) expect(await field('account-domain').textContent()).toBe(a.account.domain)
  expect(await field('account-lead-count').getAttribute('data-value')).toBe(String(a.leadCount))
  expect(await field('account-id').textContent()).toBe(a.account.id)

  const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString())
  const email = new Map(a.leads.map((l) => [l.id, l.email ?? '']))
  const identified = new Map(a.leads.map((l) => [l.id, l.identifiedAt]))
  const phase = (leadId: string, ts: number) => (identified.has(leadId) ? (ts > identified.get(leadId)! ? 'lead' : 'visitor') : '')
  const contacts = await page.locator('table[data-table="account-contacts"] tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    cells: [...tr.children].map((c) => c.getAttribute('data-value') ?? ''),
    href: tr.querySelector('a')?.getAttribute('href') ?? '',
  })))
  expect(contacts.map((c) => c.cells)).toEqual(a.leads.map((l) => [l.email ?? '', iso(l.identifiedAt), l.firstTouch?.channel ?? '',
    l.firstTouch ? `${l.firstTouch.source} / ${l.firstTouch.medium}` : '', l.firstTouch?.campaign ?? '', String(l.touchCount), l.id]))
  expect(contacts.map((c) => c.href.replace(/\?.*/, ''))).toEqual(a.leads.map((l) => `#journey/${encodeURIComponent(l.id)}`))

  const touches = await page.locator('table[data-table="account-touches"] tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    cells: [...tr.children].map((c) => c.getAttribute('data-value') ?? ''),
    text: tr.children[1]?.textContent ?? '',
    href: tr.querySelector('a')?.getAttribute('href') ?? '',
  })))
  expect(touches.map((t) => t.cells)).toEqual(a.touches.map((t) => [iso(t.ts), email.get(t.leadId) ?? t.leadId, phase(t.leadId, t.ts), t.channel, `${t.source} / ${t.medium}`, t.campaign ?? '', t.landing ?? '']))
  expect(touches.map((t) => t.text)).toEqual(a.touches.map((t) => email.get(t.leadId) ?? t.leadId))
  expect(touches.map((t) => t.href.replace(/\?.*/, ''))).toEqual(a.touches.map((t) => `#journey/${encodeURIComponent(t.leadId)}`))

  expect(await cells(page, 'account-deals')).toEqual(a.deals.map((d) =>
    [d.dealId, d.stage, d.amount === null ? '' : String(d.amount), d.leadIds.map((id) => email.get(id) ?? id).join(', ')]))
  return a
}
