// Spend CSVs as people download them → spend batch items: our own columns, or a Google Ads, Meta
// Ads Manager, LinkedIn Campaign Manager or Microsoft Advertising report export, recognised by its
// header row. Title lines above the header, total/summary rows and footers are skipped, and each
// platform implies the source/medium its ad clicks are tracked under (docs/closing-the-loop.md).

import { rejection, type BatchItem, type BatchRejection } from './batch.js'
import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv.js'
import { clError } from '../errors.js'

export const SPEND_FORMATS = ['closeloop', 'google-ads', 'meta', 'linkedin', 'microsoft'] as const
export type SpendFormat = (typeof SPEND_FORMATS)[number]

export interface SpendExportOptions {
  /** One of SPEND_FORMATS, or 'auto'/undefined to recognise the file by its header. */
  format?: string
  /** Override the source (and medium) a platform implies, or the file's own columns. */
  source?: string
  medium?: string
}

export interface SpendExport {
  format: SpendFormat
  /** The format's name for people ("Google Ads"). */
  label: string
  /** The source/medium every row gets, when the format or a flag fixes one. */
  source?: string
  medium?: string
  /** Data rows as spend rows (`date, source, medium?, campaign?, amount, currency?`), numbered by line. */
  items: BatchItem[]
  /** Data rows refused before the spend pipeline (a row covering several days). */
  rejected: BatchRejection[]
  /** Total, summary and footer rows left out. */
  skipped: number
}

type Field = 'date' | 'source' | 'medium' | 'campaign' | 'amount' | 'currency'

interface Layout {
  label: string
  /** Header names, normalised (see `headerKey`), in order of preference. */
  columns: Partial<Record<Field, readonly string[]>>
  /** Columns the header must have to be this format's. */
  required: readonly Field[]
  source?: string
  medium?: string
  /** Start and end columns of a row's reporting period: a row must cover one day. */
  span?: readonly [start: string, end: string]
}

// Medium per platform: what GA4 classifies as Paid Search / Paid Social for that source, and what
// the simulator and docs tag those ads with; clicks that arrive auto-tagged (gclid, fbclid, …)
// without UTMs are `<source> / cpc` touches, which the spend still meets on the source.
const LAYOUTS: Record<SpendFormat, Layout> = {
  closeloop: {
    label: 'Closeloop',
    columns: {
      date: ['date', 'day'],
      source: ['source', 'utmsource'],
      medium: ['medium', 'utmmedium'],
      campaign: ['campaign', 'utmcampaign', 'campaignname'],
      amount: ['amount', 'spend', 'cost'],
      currency: ['currency', 'currencycode'],
    },
    required: ['date', 'source', 'amount'],
  },
  // Report or table download as .csv: "Campaign report" and a date-range line above the header,
  // "Total: Account"/"Total: Campaigns" rows below the data.
  'google-ads': {
    label: 'Google Ads',
    columns: { date: ['day', 'date'], campaign: ['campaign', 'campaignname'], amount: ['cost'], currency: ['currencycode', 'currency'] },
    required: ['date', 'campaign', 'amount'],
    source: 'google',
    medium: 'cpc',
  },
  // Ads Manager "Export table data" as .csv: the currency is in the spend header ("Amount spent
  // (USD)"); an optional summary row has no campaign name. A daily breakdown adds "Day".
  meta: {
    label: 'Meta Ads',
    columns: { date: ['day', 'reportingstarts', 'date'], campaign: ['campaignname', 'campaign'], amount: ['amountspent'], currency: ['currency', 'currencycode'] },
    required: ['date', 'campaign', 'amount'],
    source: 'facebook',
    medium: 'paid_social',
    span: ['reportingstarts', 'reportingends'],
  },
  // Campaign Manager performance report: a few title lines above the header, M/D/YYYY dates.
  linkedin: {
    label: 'LinkedIn Ads',
    columns: { date: ['startdate', 'date', 'day'], campaign: ['campaignname', 'campaign'], amount: ['totalspent', 'amountspent', 'spend'], currency: ['currency', 'currencycode'] },
    required: ['date', 'campaign', 'amount'],
    source: 'linkedin',
    medium: 'paid_social',
    span: ['startdate', 'enddate'],
  },
  // Reports download: "Report Name: …"/"Report Time: …"/… lines above the header, a "Total" row
  // and a "©… Microsoft Corporation" line below. UI names ("Gregorian date") or API names ("TimePeriod").
  microsoft: {
    label: 'Microsoft Advertising',
    columns: { date: ['timeperiod', 'gregoriandate', 'date', 'day'], campaign: ['campaignname', 'campaign'], amount: ['spend'], currency: ['currencycode', 'currency'] },
    required: ['date', 'campaign', 'amount'],
    source: 'bing',
    medium: 'cpc',
  },
}

// Detection order: the most specific spend column first ("Amount spent", "Total Spent", "Spend"
// next to a Microsoft date column, "Cost").
const DETECT: readonly SpendFormat[] = ['meta', 'linkedin', 'microsoft', 'google-ads']
/** Lines searched for a platform's header (title and summary lines come first). */
const HEADER_WITHIN = 50

/** "Amount spent (USD)" → key "amountspent", currency "USD"; "Start Date (in UTC)" → "startdate". */
export function headerKey(cell: string): { key: string; currency?: string } {
  const m = /^(.*?)\s*\(([^()]*)\)\s*$/.exec(cell.trim())
  const base = m ? m[1] : cell
  const currency = m && /^[A-Za-z]{3}$/.test(m[2].trim()) ? m[2].trim().toUpperCase() : undefined
  return { key: base.toLowerCase().replace(/[^a-z0-9]/g, ''), currency }
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

function ymd(y: string, m: string | number, d: string): string {
  return `${y}-${String(m).padStart(2, '0')}-${d.padStart(2, '0')}`
}

/**
 * A report's day as YYYY-MM-DD: "2026-01-05", "2026/01/05", "1/5/2026" (US month first, as the
 * English exports write it), "Jan 5, 2026", "5 Jan 2026", each optionally followed by a time.
 * Null when it is none of them; the day itself is checked later (2/30/2026 is CL_ERR_BAD_DATE).
 */
export function exportDay(raw: string): string | null {
  const s = raw.trim()
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$/.exec(s)
  if (m) return ymd(m[1], m[2], m[3])
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T].*)?$/.exec(s)
  if (m) return ymd(m[3], m[1], m[2])
  m = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})$/.exec(s)
  if (m && MONTHS.includes(m[1].toLowerCase())) return ymd(m[3], MONTHS.indexOf(m[1].toLowerCase()) + 1, m[2])
  m = /^(\d{1,2}) ([A-Za-z]{3})[a-z]*\.? (\d{4})$/.exec(s)
  if (m && MONTHS.includes(m[2].toLowerCase())) return ymd(m[3], MONTHS.indexOf(m[2].toLowerCase()) + 1, m[1])
  return null
}

/** "$1,234.56" → "1,234.56": a currency sign around the number is dropped (thousands commas are the pipeline's). */
function exportAmount(raw: string): string {
  return raw.trim().replace(/^[$€£¥₹]\s*|\s*[$€£¥₹]$/g, '')
}

interface Header {
  at: number
  /** Field → column indexes, in order of preference. */
  cols: Partial<Record<Field, number[]>>
  /** Column index → its header key. */
  keys: string[]
  /** Currency named in the spend column's header. */
  currency?: string
}

function matchHeader(r: CsvRecord, layout: Layout, optional: readonly Field[] = []): Header | { missing: Field } {
  const parsed = r.fields.map(headerKey)
  const keys = parsed.map((p) => p.key)
  const cols: Header['cols'] = {}
  for (const [field, names] of Object.entries(layout.columns) as Array<[Field, readonly string[]]>) {
    const idx = names.flatMap((n) => keys.flatMap((k, i) => (k === n ? [i] : [])))
    if (idx.length) cols[field] = idx
  }
  const missing = layout.required.find((f) => !cols[f] && !optional.includes(f))
  if (missing) return { missing }
  const currency = cols.amount ? parsed[cols.amount[0]].currency : undefined
  return { at: r.line, cols, keys, currency }
}

function find(records: CsvRecord[], layout: Layout): Header | null {
  for (const r of records.slice(0, HEADER_WITHIN)) {
    const h = matchHeader(r, layout)
    if (!('missing' in h)) return h
  }
  return null
}

function formatOf(name: string | undefined): SpendFormat | undefined {
  if (name === undefined || name === 'auto') return undefined
  if ((SPEND_FORMATS as readonly string[]).includes(name)) return name as SpendFormat
  throw clError('VALIDATION', `--format must be auto, ${SPEND_FORMATS.join(', ')}`)
}

const TOTAL = /^totals?\b/i

/** Parse a spend CSV of any known format into spend batch items. */
export function readSpendExport(text: string, opts: SpendExportOptions = {}): SpendExport {
  const forced = formatOf(opts.format)
  if (opts.source !== undefined && opts.source.trim() === '') throw clError('VALIDATION', '--source must not be empty')
  let records: CsvRecord[]
  try {
    records = parseCsv(text)
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw clError('BAD_CSV', err.message)
    throw err
  }
  const sourceGiven: readonly Field[] = opts.source !== undefined ? ['source'] : []

  let format: SpendFormat | undefined = forced
  let header: Header | null = null
  // Our own columns are always on the first line, with a source column; a platform's header may
  // come after title lines. A file of neither is ours, so its error names the missing column.
  if (format === undefined && records.length > 0 && 'missing' in matchHeader(records[0], LAYOUTS.closeloop)) {
    for (const f of DETECT) {
      header = find(records, LAYOUTS[f])
      if (header) { format = f; break }
    }
  }
  format ??= 'closeloop'
  const layout = LAYOUTS[format]
  if (format === 'closeloop') {
    const h = records.length ? matchHeader(records[0], layout, sourceGiven) : { missing: 'date' as Field }
    if ('missing' in h) throw clError('BAD_CSV', `line 1: missing column "${h.missing}"`)
    header = h
  } else if (!header) {
    header = find(records, layout)
    if (!header) {
      const names = layout.required.map((f) => layout.columns[f]?.[0]).join(', ')
      throw clError('BAD_CSV', `no ${layout.label} header (columns like ${names}) in the first ${HEADER_WITHIN} lines`)
    }
  }

  const h = header
  // Lower-cased as the store keeps them, so the CLI says what the rows land under.
  const source = opts.source?.trim().toLowerCase() ?? layout.source
  const medium = opts.medium?.trim().toLowerCase() ?? layout.medium
  const out: SpendExport = { format, label: layout.label, source, medium, items: [], rejected: [], skipped: 0 }
  const start = records.findIndex((r) => r.line === h.at) + 1
  for (const r of records.slice(start)) {
    const at = (i: number): string => (r.fields[i] ?? '').trim()
    const cell = (f: Field): string => {
      for (const i of h.cols[f] ?? []) if (at(i) !== '') return at(i)
      return ''
    }
    const rawDate = cell('date')
    const day = exportDay(rawDate)
    if (format !== 'closeloop') {
      const filled = r.fields.filter((v) => v.trim() !== '').length
      const total = day === null && [at(0), rawDate, cell('campaign')].some((v) => TOTAL.test(v))
      // Footers and notes are one cell; a summary row has no campaign; total rows say so.
      if (filled < 2 || total || cell('campaign') === '') { out.skipped++; continue }
    }
    const row: Record<string, string> = {}
    if (rawDate !== '') row.date = day ?? rawDate
    const s = source ?? cell('source')
    if (s !== '') row.source = s
    const m = medium ?? cell('medium')
    if (m !== '') row.medium = m
    const campaign = cell('campaign')
    if (campaign !== '') row.campaign = campaign
    const amount = format === 'closeloop' ? cell('amount') : exportAmount(cell('amount'))
    if (amount !== '') row.amount = amount
    const currency = cell('currency') || h.currency
    if (currency) row.currency = currency
    const span = layout.span && spanOf(h, layout.span, at)
    if (span && day !== null && span.from === day && span.to !== null && span.to !== day) {
      out.rejected.push(rejection(r.line, clError('BAD_DATE', `row covers ${span.from} to ${span.to}; export one row per day (a daily breakdown)`)))
      continue
    }
    out.items.push({ at: r.line, raw: row })
  }
  return out
}

/** The row's reporting period when the date came from the layout's start column. */
function spanOf(h: Header, [startKey, endKey]: readonly [string, string], at: (i: number) => string): { from: string | null; to: string | null } | null {
  const date = (h.cols.date ?? []).find((i) => at(i) !== '')
  if (date === undefined || h.keys[date] !== startKey) return null
  const end = h.keys.indexOf(endKey)
  if (end < 0) return null
  return { from: exportDay(at(date)), to: exportDay(at(end)) }
}
