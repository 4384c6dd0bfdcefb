// Ad platform spend exports as downloaded (fixtures under test/fixtures/spend/) → spend rows:
// header found below title lines, totals/summaries/footers skipped, source/medium implied.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { exportDay, headerKey, readSpendExport } from '../../../src/outcomes/spend-exports.js'
import { parseSpendRow } from '../../../src/outcomes/spend.js'

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/spend/${name}`, import.meta.url), 'utf8')

/** The rows as the spend pipeline reads them: [line, date, source, medium, campaign, amount, currency]. */
function rows(text: string, opts = {}) {
  const file = readSpendExport(text, opts)
  return { file, rows: file.items.map(({ at, raw }) => {
    const r = parseSpendRow(raw)
    return [at, r.date, r.source, r.medium, r.campaign, r.amount, r.currency]
  }) }
}

describe('spend exports by platform', () => {
  it('Google Ads: title and date-range lines, "Currency code", quoted thousands, Total rows skipped', () => {
    const { file, rows: r } = rows(fixture('google-ads.csv'))
    expect(file).toMatchObject({ format: 'google-ads', source: 'google', medium: 'cpc', skipped: 3, rejected: [] })
    expect(r).toEqual([
      [4, '2026-01-05', 'google', 'cpc', 'brand', 1234.56, 'USD'],
      [5, '2026-01-05', 'google', 'cpc', 'generic-crm-search', 310.2, 'USD'],
      [6, '2026-01-06', 'google', 'cpc', 'brand', 1180, 'USD'],
      [7, '2026-01-07', 'google', 'cpc', 'brand, exact', 0, 'USD'],
    ])
  })

  it('Meta: BOM, "Amount spent (EUR)" names the currency, Day wins over the reporting period, summary row skipped', () => {
    const { file, rows: r } = rows(fixture('meta.csv'))
    expect(file).toMatchObject({ format: 'meta', source: 'facebook', medium: 'paid_social', skipped: 1, rejected: [] })
    expect(r).toEqual([
      [3, '2026-01-05', 'facebook', 'paid_social', 'Retargeting Q1', 385.1, 'EUR'],
      [4, '2026-01-06', 'facebook', 'paid_social', 'Retargeting Q1', 385.1, 'EUR'],
      [5, '2026-01-05', 'facebook', 'paid_social', 'Lookalike – Founders', 1010.05, 'EUR'],
    ])
  })

  it('LinkedIn: report title lines, "Start Date (in UTC)" as M/D/YYYY, "Total Spent", Currency column, Total row skipped', () => {
    const { file, rows: r } = rows(fixture('linkedin.csv'))
    expect(file).toMatchObject({ format: 'linkedin', source: 'linkedin', medium: 'paid_social', skipped: 1, rejected: [] })
    expect(r).toEqual([
      [8, '2026-01-05', 'linkedin', 'paid_social', 'ABM Enterprise', 1020.4, 'GBP'],
      [9, '2026-01-06', 'linkedin', 'paid_social', 'ABM Enterprise', 980, 'GBP'],
      [10, '2026-01-06', 'linkedin', 'paid_social', 'Webinar Promo', 214.37, 'GBP'],
    ])
  })

  it('Microsoft Advertising: "Report Name/Time/…" preamble, Gregorian date, Spend, Total row and copyright footer skipped', () => {
    const { file, rows: r } = rows(fixture('microsoft.csv'))
    expect(file).toMatchObject({ format: 'microsoft', source: 'bing', medium: 'cpc', skipped: 2, rejected: [] })
    expect(r).toEqual([
      [12, '2026-01-05', 'bing', 'cpc', 'generic-crm-search', 63.44, 'USD'],
      [13, '2026-01-06', 'bing', 'cpc', 'generic-crm-search', 62.06, 'USD'],
      [14, '2026-01-07', 'bing', 'cpc', 'brand', 1219.74, 'USD'],
    ])
  })

  it('Microsoft API column names (TimePeriod, CampaignName, CurrencyCode) are the same format', () => {
    const csv = '"TimePeriod","AccountName","CampaignName","CurrencyCode","Impressions","Clicks","Spend"\n"2026-01-05","Acme","brand","USD","1,204","88","1,012.50"\n"Total","","","","1,204","88","1,012.50"\n'
    const { file, rows: r } = rows(csv)
    expect(file).toMatchObject({ format: 'microsoft', skipped: 1 })
    expect(r).toEqual([[2, '2026-01-05', 'bing', 'cpc', 'brand', 1012.5, 'USD']])
  })
})

describe('spend export options and edge rows', () => {
  it('--source/--medium override what the platform implies', () => {
    const { file, rows: r } = rows(fixture('linkedin.csv'), { source: 'LinkedIn', medium: 'cpc' })
    expect(file.format).toBe('linkedin')
    expect(r.map((x) => [x[2], x[3]])).toEqual([['linkedin', 'cpc'], ['linkedin', 'cpc'], ['linkedin', 'cpc']])
  })

  it('--format forces a format; a file without its header is CL_ERR_BAD_CSV; an unknown format is CL_ERR_VALIDATION', () => {
    expect(readSpendExport(fixture('microsoft.csv'), { format: 'microsoft' }).items).toHaveLength(3)
    expect(() => readSpendExport(fixture('google-ads.csv'), { format: 'meta' })).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CSV', message: expect.stringMatching(/Meta Ads header/) }))
    expect(() => readSpendExport(fixture('google-ads.csv'), { format: 'tiktok' })).toThrow(expect.objectContaining({ code: 'CL_ERR_VALIDATION' }))
  })

  it('a row covering several days (no daily breakdown) is refused by line with CL_ERR_BAD_DATE; good rows stay', () => {
    const csv = 'Reporting starts,Reporting ends,Campaign name,Amount spent (USD)\n2026-01-05,2026-01-31,Retargeting Q1,"2,400.00"\n2026-01-06,2026-01-06,Retargeting Q1,80\n'
    const file = readSpendExport(csv)
    expect(file.rejected.map((r) => [r.at, r.error.code])).toEqual([[2, 'CL_ERR_BAD_DATE']])
    expect(file.rejected[0].error.message).toMatch(/2026-01-05 to 2026-01-31/)
    expect(file.items.map((i) => i.raw)).toEqual([{ date: '2026-01-06', source: 'facebook', medium: 'paid_social', campaign: 'Retargeting Q1', amount: '80', currency: 'USD' }])
  })

  it('our own columns stay ours, first line only; --source fills a missing source column', () => {
    expect(readSpendExport('date,source,campaign,cost\n2026-01-05,google,brand,5\n').format).toBe('closeloop')
    expect(() => readSpendExport('date,campaign,amount\n2026-01-05,brand,5\n')).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CSV', message: 'line 1: missing column "source"' }))
    const own = readSpendExport('date,campaign,amount\n1/5/2026,brand,5\n', { source: 'newsletter', medium: 'email' })
    expect(own.items.map((i) => i.raw)).toEqual([{ date: '2026-01-05', source: 'newsletter', medium: 'email', campaign: 'brand', amount: '5' }])
  })

  it('header names and days in their common spellings', () => {
    expect(headerKey('Amount spent (USD)')).toEqual({ key: 'amountspent', currency: 'USD' })
    expect(headerKey('Start Date (in UTC)')).toEqual({ key: 'startdate', currency: undefined })
    expect(headerKey(' CURRENCY CODE ')).toEqual({ key: 'currencycode', currency: undefined })
    expect(['2026-01-05', '2026/1/5', '1/5/2026', '01/05/2026 00:00:00', 'Jan 5, 2026', '5 January 2026', '2026-01-05T00:00:00Z'].map(exportDay)).toEqual(Array(7).fill('2026-01-05'))
    expect(exportDay('2/30/2026')).toBe('2026-02-30')
    expect(exportDay('Total: Account')).toBeNull()
  })
})
