// POST /v1/spend: { rows: [{ date, source, medium?, campaign?, amount, currency? }] }, upsert by
// (date, source, medium, campaign). Valid rows are kept even when others are rejected.

import { authenticateSecret } from '../auth.js'
import type { RouteModule } from '../context.js'
import { describeRejection } from '../../outcomes/batch.js'
import { OUTCOME_LIMITS, spendBatchSchema } from '../../outcomes/schemas.js'
import { writeSpendBatch } from '../../outcomes/spend-batch.js'
import { parseOr } from '../validate.js'

export const spendRoute: RouteModule = (app, ctx) => {
  app.post('/v1/spend', { bodyLimit: OUTCOME_LIMITS.body }, async (request) => {
    const site = await authenticateSecret(request, ctx)
    const { rows } = parseOr(spendBatchSchema, request.body)
    // One request is one store write (the request size is bounded by the schema).
    const r = await writeSpendBatch(ctx.store, site, rows.map((raw, at) => ({ at, raw })))
    return {
      accepted: r.accepted,
      inserted: r.inserted,
      updated: r.updated,
      currency: site.currency,
      rejected: r.rejected.map((x) => ({ index: x.at, ...describeRejection(x) })),
    }
  })
}
