// One exchange rate, from POST /v1/rates or a CSV row, checked and normalised: an ISO 4217 code
// in upper case, a real UTC day or none (a standing rate), a positive rate.

import { dayStart } from '../attribution/spend.js'
import { clError } from '../errors.js'
import { parseOr } from '../http/validate.js'
import { currencyCode, type FxRate } from './currency.js'
import { rateSchema } from './schemas.js'

export interface RateInput {
  date?: string | null
  currency: string
  rate: number
}

/** `label` prefixes messages with the item's place, e.g. `rates.3`. */
export function prepareRate(r: RateInput, label?: string): FxRate {
  const at = label ? `${label}.` : ''
  const currency = currencyCode(r.currency)
  if (currency === null) throw clError('BAD_CURRENCY', `${at}currency: not an ISO 4217 code`)
  const date = r.date ?? null
  if (date !== null && !Number.isFinite(dayStart(date))) throw clError('BAD_DATE', `${at}date: not a real day`)
  return { date, currency, rate: r.rate }
}

/** A CSV row's cells (text) as a rate input; the rate must be a plain decimal number. */
export function parseRateRow(cells: Record<string, string>): RateInput {
  const rate = cells.rate === undefined ? undefined : /^[+]?\d*\.?\d+(e[+-]?\d+)?$/i.test(cells.rate) ? Number(cells.rate) : Number.NaN
  return parseOr(rateSchema, { ...cells, rate })
}
