// CSV files of spend, deals and exchange rates → the store (deals and spend through their batch
// pipelines), row by row: good rows are kept, every bad row is reported with its line number and
// error code, and the caller exits non-zero when any failed. Headers are matched loosely ("Deal ID", "deal_id", "dealId" are one column).

import { byPosition, describeRejection, rejection, type BatchRejection } from './batch.js'
import { CsvSyntaxError, parseCsvTable } from './csv.js'
import { writeDealBatch } from './deal-batch.js'
import { clError } from '../errors.js'
import type { Pii } from '../identity/pii.js'
import { writeSpendBatch } from './spend-batch.js'
import { readSpendExport, type SpendExport, type SpendExportOptions } from './spend-exports.js'
import type { Site, Store } from '../store/types.js'
import { parseRateRow, prepareRate } from './rates.js'

export interface RowError {
  line: number
  code: string
  message: string
}

export interface ImportResult {
  rows: number
  accepted: number
  errors: RowError[]
  /** Deals imported but not linked to a lead yet: held until that person is identified. */
  pending?: number
}

// Rows per store transaction: a large file is not one long write.
const BATCH = 1_000

function column(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/** Cells of one row under canonical names, empty cells left out. */
function pick(values: Record<string, string>, aliases: Record<string, readonly string[]>): Record<string, string> {
  const byColumn = new Map(Object.entries(values).map(([k, v]) => [column(k), v]))
  const out: Record<string, string> = {}
  for (const [name, names] of Object.entries(aliases)) {
    for (const n of names) {
      const v = byColumn.get(n)
      if (v !== undefined && v.trim() !== '') { out[name] = v.trim(); break }
    }
  }
  return out
}

function table(text: string, required: Array<[string, readonly string[]]>) {
  let t
  try {
    t = parseCsvTable(text)
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw clError('BAD_CSV', err.message)
    throw err
  }
  const have = new Set(t.header.map(column))
  for (const [name, names] of required) {
    if (!names.some((n) => have.has(n))) throw clError('BAD_CSV', `line 1: missing column "${name}"`)
  }
  return t
}

function rowError(r: BatchRejection): RowError {
  return { line: r.at, ...describeRejection(r) }
}

export interface SpendImportResult extends ImportResult, Omit<SpendExport, 'items' | 'rejected'> {}

/** A spend CSV of our columns or an ad platform's export (spend-exports.ts). */
export async function importSpendCsv(store: Store, site: Site, text: string, opts: SpendExportOptions = {}): Promise<SpendImportResult> {
  const { items, rejected, ...file } = readSpendExport(text, opts)
  const r = await writeSpendBatch(store, site, items, { chunk: BATCH })
  const errors = [...rejected, ...r.rejected].sort(byPosition).map(rowError)
  return { ...file, rows: items.length + rejected.length, accepted: r.accepted, errors }
}

const DEAL_COLUMNS = {
  dealId: ['dealid', 'deal', 'id', 'opportunityid'],
  leadId: ['leadid'],
  email: ['email', 'emailaddress', 'contactemail'],
  externalId: ['externalid', 'contactid', 'crmid'],
  company: ['company', 'companyname', 'account', 'accountname', 'organization', 'organisation'],
  stage: ['stage', 'dealstage', 'status'],
  amount: ['amount', 'value', 'dealamount'],
  currency: ['currency', 'currencycode'],
  ts: ['ts', 'timestamp', 'time', 'date', 'stagedate', 'changedat', 'closedate'],
} as const

/** CSV cells are text: epoch digits become numbers (a bare day is read by the deal schema, as on the API). */
function dealInput(cells: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cells }
  const ts = cells.ts
  if (ts !== undefined && /^\d+$/.test(ts)) out.ts = Number(ts)
  return out
}

export async function importDealsCsv(store: Store, site: Site, text: string, pii: Pii, now = Date.now()): Promise<ImportResult> {
  const t = table(text, [['dealId', DEAL_COLUMNS.dealId], ['stage', DEAL_COLUMNS.stage]])
  const items = t.rows.map((r) => ({ at: r.line, raw: dealInput(pick(r.values, DEAL_COLUMNS)) }))
  const r = await writeDealBatch(store, site, items, { pii, now, chunk: BATCH })
  const pending = r.written.filter((w) => w.result.leadId === null).length
  return { rows: t.rows.length, accepted: r.written.length, errors: r.rejected.map(rowError), pending }
}

const RATE_COLUMNS = {
  date: ['date', 'day'],
  currency: ['currency', 'currencycode', 'code'],
  rate: ['rate', 'fxrate', 'exchangerate'],
} as const

/** Exchange rates to the site currency (columns: date?, currency, rate); no date = a standing rate. */
export async function importRatesCsv(store: Store, site: Site, text: string): Promise<ImportResult> {
  const t = table(text, [['currency', RATE_COLUMNS.currency], ['rate', RATE_COLUMNS.rate]])
  const errors: RowError[] = []
  const rates = t.rows.flatMap((r) => {
    try { return [prepareRate(parseRateRow(pick(r.values, RATE_COLUMNS)))] } catch (err) { errors.push(rowError(rejection(r.line, err))); return [] }
  })
  for (let i = 0; i < rates.length; i += BATCH) await store.upsertRates(site.id, rates.slice(i, i + BATCH))
  return { rows: t.rows.length, accepted: rates.length, errors }
}
