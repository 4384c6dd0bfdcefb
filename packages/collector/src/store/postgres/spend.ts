// Spend and exchange rates for PostgreSQL: upserts on the group-commit client inside its
// transaction, and the site's rates as stored.

import type pg from 'pg'
import type { FxRate } from '../../outcomes/currency.js'
import type { SpendWrite } from '../../outcomes/types.js'
import type { Row } from '../rows.js'

type Client = pg.PoolClient | pg.Pool

export async function upsertSpendPg(c: Client, siteId: string, rows: readonly SpendWrite[], now: number): Promise<{ inserted: number; updated: number }> {
  let inserted = 0
  let updated = 0
  for (const r of rows) {
    // xmax = 0 only on a freshly inserted row: tells insert from update in one statement.
    const res = await c.query(
      `INSERT INTO spend (site_id, date, source, medium, campaign, amount, original_amount, original_currency, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (site_id, date, source, medium, campaign) DO UPDATE SET amount = EXCLUDED.amount,
         original_amount = EXCLUDED.original_amount, original_currency = EXCLUDED.original_currency, updated_at = EXCLUDED.updated_at
       RETURNING (xmax = 0) AS inserted`,
      [siteId, r.date, r.source, r.medium, r.campaign, r.amount, r.originalAmount, r.originalCurrency, now],
    )
    if ((res.rows[0] as Row).inserted) inserted++
    else updated++
  }
  return { inserted, updated }
}

export async function upsertRatesPg(c: Client, siteId: string, rates: readonly FxRate[], now: number): Promise<number> {
  for (const r of rates) {
    await c.query(
      `INSERT INTO fx_rates (site_id, currency, date, rate, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (site_id, currency, date) DO UPDATE SET rate = EXCLUDED.rate, updated_at = EXCLUDED.updated_at`,
      [siteId, r.currency, r.date ?? '', r.rate, now],
    )
  }
  return rates.length
}

export async function listRatesPg(c: Client, siteId: string): Promise<FxRate[]> {
  const rows = (await c.query('SELECT currency, date, rate FROM fx_rates WHERE site_id = $1 ORDER BY currency, date', [siteId])).rows as Row[]
  return rows.map((r) => ({ currency: String(r.currency), date: r.date === '' ? null : String(r.date), rate: Number(r.rate) }))
}
