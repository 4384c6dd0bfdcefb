// CSV files of spend and deals → the store, row by row: good rows are kept, every bad row is
// reported with its line number and error code, and the caller exits non-zero when any failed.
// Headers are matched loosely ("Deal ID", "deal_id", "dealId" are one column).

import { CsvSyntaxError, parseCsvTable } from './csv.js'
import { parseDeal, prepareDeal } from './deals.js'
import { rateBookFor } from './rate-book.js'
import { clError, toClError } from '../errors.js'
import type { DealWrite, SpendWrite } from './types.js'
import type { Pii } from '../identity/pii.js'
import { parseSpendRow, prepareSpendRow } from './spend.js'
import type { Site, Store } from '../store/types.js'

export interface RowError {
  line: number
  code: string
  message: string
}

export interface ImportResult {
  rows: number
  accepted: number
  errors: RowError[]
}

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

function rowError(line: number, err: unknown): RowError {
  const e = toClError(err)
  return { line, code: e.code, message: e.message }
}

const SPEND_COLUMNS = {
  date: ['date', 'day'],
  source: ['source', 'utmsource'],
  medium: ['medium', 'utmmedium'],
  campaign: ['campaign', 'utmcampaign', 'campaignname'],
  amount: ['amount', 'spend', 'cost'],
  currency: ['currency', 'currencycode'],
} as const

export async function importSpendCsv(store: Store, site: Site, text: string): Promise<ImportResult> {
  const t = table(text, [['date', SPEND_COLUMNS.date], ['source', SPEND_COLUMNS.source], ['amount', SPEND_COLUMNS.amount]])
  const errors: RowError[] = []
  const parsed = t.rows.flatMap((r) => {
    try { return [{ line: r.line, row: parseSpendRow(pick(r.values, SPEND_COLUMNS)) }] } catch (err) { errors.push(rowError(r.line, err)); return [] }
  })
  const rates = await rateBookFor(store, site, parsed.map((p) => p.row))
  const writes: SpendWrite[] = []
  for (const p of parsed) {
    try { writes.push(prepareSpendRow(p.row, rates)) } catch (err) { errors.push(rowError(p.line, err)) }
  }
  for (let i = 0; i < writes.length; i += BATCH) await store.upsertSpend(site.id, writes.slice(i, i + BATCH))
  errors.sort((a, b) => a.line - b.line)
  return { rows: t.rows.length, accepted: writes.length, errors }
}

const DEAL_COLUMNS = {
  dealId: ['dealid', 'deal', 'id', 'opportunityid'],
  leadId: ['leadid'],
  email: ['email', 'emailaddress', 'contactemail'],
  externalId: ['externalid', 'contactid', 'crmid'],
  stage: ['stage', 'dealstage', 'status'],
  amount: ['amount', 'value', 'dealamount'],
  currency: ['currency', 'currencycode'],
  ts: ['ts', 'timestamp', 'time', 'date', 'stagedate', 'changedat', 'closedate'],
} as const

/** CSV cells are text: epoch digits become numbers, a bare day becomes midnight UTC. */
function dealInput(cells: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cells }
  const ts = cells.ts
  if (ts !== undefined) out.ts = /^\d+$/.test(ts) ? Number(ts) : /^\d{4}-\d{2}-\d{2}$/.test(ts) ? `${ts}T00:00:00Z` : ts
  return out
}

export async function importDealsCsv(store: Store, site: Site, text: string, pii: Pii | null, now = Date.now()): Promise<ImportResult> {
  const t = table(text, [['dealId', DEAL_COLUMNS.dealId], ['stage', DEAL_COLUMNS.stage]])
  const errors: RowError[] = []
  const parsed = t.rows.flatMap((r) => {
    try { return [{ line: r.line, deal: parseDeal(dealInput(pick(r.values, DEAL_COLUMNS))) }] } catch (err) { errors.push(rowError(r.line, err)); return [] }
  })
  const rates = await rateBookFor(store, site, parsed.map((p) => p.deal))
  const ok: Array<{ line: number; write: DealWrite }> = []
  for (const p of parsed) {
    try {
      const prepared = prepareDeal(p.deal, site, rates, now)
      if (pii && await store.isSuppressed(site.id, pii.suppression(prepared.person))) throw clError('SUPPRESSED')
      ok.push({ line: p.line, write: prepared.write })
    } catch (err) {
      errors.push(rowError(p.line, err))
    }
  }
  let accepted = 0
  for (let i = 0; i < ok.length; i += BATCH) {
    const slice = ok.slice(i, i + BATCH)
    const results = await store.upsertDeals(site.id, slice.map((o) => o.write))
    results.forEach((r, k) => {
      if (r.unknownLead) errors.push({ line: slice[k].line, code: 'CL_ERR_LEAD_NOT_FOUND', message: 'Lead not found' })
      else accepted++
    })
  }
  errors.sort((a, b) => a.line - b.line)
  return { rows: t.rows.length, accepted, errors }
}
