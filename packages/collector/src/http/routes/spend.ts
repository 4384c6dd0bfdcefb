// POST /v1/spend (SPEC §4): { rows: [{ date, source, medium?, campaign?, amount, currency? }] },
// upsert by (date, source, medium, campaign). Valid rows are kept even when others are rejected.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { toClError } from '../../errors.js'
import { OUTCOME_LIMITS, spendBatchSchema, type SpendRowInput } from '../../outcomes/schemas.js'
import type { SpendWrite } from '../../outcomes/types.js'
import { parseSpendRow, prepareSpendRow } from '../../outcomes/spend.js'
import { parseOr } from '../validate.js'
import { rateBookFor } from '../../outcomes/rate-book.js'

export const spendRoute: RouteModule = (app, ctx) => {
  app.post('/v1/spend', { bodyLimit: OUTCOME_LIMITS.body }, async (request) => {
    const site = await authenticateSecret(request, ctx)
    const { rows } = parseOr(spendBatchSchema, request.body)
    const rejected: Array<{ index: number; code: string; message: string }> = []
    const parsed: Array<{ index: number; row: SpendRowInput }> = []
    rows.forEach((raw, index) => {
      try { parsed.push({ index, row: parseSpendRow(raw) }) } catch (err) {
        const e = toClError(err)
        rejected.push({ index, code: e.code, message: e.message })
      }
    })
    const rates = await rateBookFor(ctx.store, site, parsed.map((p) => p.row))
    const writes: SpendWrite[] = []
    for (const { index, row } of parsed) {
      try { writes.push(prepareSpendRow(row, rates)) } catch (err) {
        const e = toClError(err)
        rejected.push({ index, code: e.code, message: e.message })
      }
    }
    const { inserted, updated } = writes.length > 0 ? await ctx.store.upsertSpend(site.id, writes) : { inserted: 0, updated: 0 }
    rejected.sort((a, b) => a.index - b.index)
    return { accepted: writes.length, inserted, updated, currency: site.currency, rejected }
  })
}
