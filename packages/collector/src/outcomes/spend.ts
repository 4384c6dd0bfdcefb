// Spend rows as an ad platform export or API sends them → SpendWrite for the store: source and
// medium lower-cased like touches, absent medium/campaign as '' so the upsert key
// (date, source, medium, campaign) is total, amounts converted to the site currency.

import { RateBook, currencyCode } from './currency.js'
import { clError } from '../errors.js'
import { spendRowSchema, type SpendRowInput } from './schemas.js'
import type { SpendWrite } from './types.js'
import { dayStart } from '../attribution/spend.js'
import { parseOr } from '../http/validate.js'

export function parseSpendRow(raw: unknown): SpendRowInput {
  return parseOr(spendRowSchema, raw)
}

export function prepareSpendRow(r: SpendRowInput, rates: RateBook): SpendWrite {
  if (!Number.isFinite(dayStart(r.date))) throw clError('BAD_DATE')
  const currency = r.currency != null && r.currency !== '' ? r.currency : null
  const code = currency === null ? null : currencyCode(currency)
  if (currency !== null && code === null) throw clError('BAD_CURRENCY')
  return {
    date: r.date,
    source: r.source.trim().toLowerCase(),
    medium: (r.medium ?? '').trim().toLowerCase(),
    campaign: (r.campaign ?? '').trim(),
    amount: rates.convert(r.amount, code, r.date),
    originalAmount: r.amount,
    originalCurrency: code === rates.siteCurrency ? null : code,
  }
}
