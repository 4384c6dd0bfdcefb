// Spend and exchange rates for SQLite: upserts inside the store's group-commit transaction, and
// the site's rates as stored.

import type { FxRate } from '../../outcomes/currency.js'
import type { SpendWrite } from '../../outcomes/types.js'
import type { Row } from '../rows.js'
import type { Prepared } from './statements.js'

export const SPEND_SQL = {
  spendExists: 'SELECT 1 FROM spend WHERE site_id = ? AND date = ? AND source = ? AND medium = ? AND campaign = ?',
  upsertSpend: `INSERT INTO spend (site_id, date, source, medium, campaign, amount, original_amount, original_currency, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (site_id, date, source, medium, campaign) DO UPDATE SET amount = excluded.amount,
       original_amount = excluded.original_amount, original_currency = excluded.original_currency, updated_at = excluded.updated_at`,
  upsertRate: `INSERT INTO fx_rates (site_id, currency, date, rate, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (site_id, currency, date) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at`,
  rates: 'SELECT currency, date, rate FROM fx_rates WHERE site_id = ? ORDER BY currency, date',
} as const

export type SpendStatements = Prepared<typeof SPEND_SQL>

export function upsertSpendSync(s: SpendStatements, siteId: string, rows: readonly SpendWrite[], now: number): { inserted: number; updated: number } {
  let inserted = 0
  let updated = 0
  for (const r of rows) {
    if (s.spendExists.get(siteId, r.date, r.source, r.medium, r.campaign)) updated++
    else inserted++
    s.upsertSpend.run(siteId, r.date, r.source, r.medium, r.campaign, r.amount, r.originalAmount, r.originalCurrency, now)
  }
  return { inserted, updated }
}

export function upsertRatesSync(s: SpendStatements, siteId: string, rates: readonly FxRate[], now: number): number {
  for (const r of rates) s.upsertRate.run(siteId, r.currency, r.date ?? '', r.rate, now)
  return rates.length
}

export function listRatesSync(s: SpendStatements, siteId: string): FxRate[] {
  return (s.rates.all(siteId) as Row[]).map((r) => ({ currency: String(r.currency), date: r.date === '' ? null : String(r.date), rate: Number(r.rate) }))
}
