// One reporting currency per site (site.currency). Amounts in another currency are converted with
// rates the site imported (POST /v1/rates); without a usable rate the row is rejected with
// CL_ERR_NO_FX_RATE — amounts in different currencies are never summed as if they were one.
//
// A rate says: 1 unit of `currency` = `rate` units of the site currency. The rate used for an amount
// on day D is the most recent dated rate on or before D; an undated rate is the fallback.

import { clError } from '../errors.js'

export interface FxRate {
  /** UTC day YYYY-MM-DD, or null for a standing rate. */
  date: string | null
  /** ISO 4217 code, upper case. */
  currency: string
  rate: number
}

const CODE = /^[A-Z]{3}$/

/** Upper-cased ISO 4217 code, or null when the value is not three letters. */
export function currencyCode(raw: string): string | null {
  const c = raw.trim().toUpperCase()
  return CODE.test(c) ? c : null
}

export function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10)
}

/** Rates of one site, indexed for lookups by currency and day. */
export class RateBook {
  private readonly dated = new Map<string, Array<{ date: string; rate: number }>>()
  private readonly standing = new Map<string, number>()

  constructor(readonly siteCurrency: string, rates: readonly FxRate[]) {
    for (const r of rates) {
      if (r.date === null) { this.standing.set(r.currency, r.rate); continue }
      let list = this.dated.get(r.currency)
      if (!list) this.dated.set(r.currency, (list = []))
      list.push({ date: r.date, rate: r.rate })
    }
    for (const list of this.dated.values()) list.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
  }

  /** Rate of `currency` on `day`, or null when none applies. */
  rate(currency: string, day: string): number | null {
    if (currency === this.siteCurrency) return 1
    const list = this.dated.get(currency)
    if (list) {
      // Binary search for the last date ≤ day.
      let lo = 0
      let hi = list.length - 1
      let found = -1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        if (list[mid].date <= day) { found = mid; lo = mid + 1 } else hi = mid - 1
      }
      if (found >= 0) return list[found].rate
    }
    return this.standing.get(currency) ?? null
  }

  /**
   * `amount` in `currency` (default: the site's) on `day` → the site currency, rounded to 1e-6.
   * Throws CL_ERR_BAD_CURRENCY / CL_ERR_NO_FX_RATE.
   */
  convert(amount: number, currency: string | null | undefined, day: string): number {
    if (currency === null || currency === undefined || currency === '') return amount
    const code = currencyCode(currency)
    if (!code) throw clError('BAD_CURRENCY', `"${currency.slice(0, 20)}" is not an ISO 4217 currency code`)
    const rate = this.rate(code, day)
    if (rate === null) {
      throw clError('NO_FX_RATE', `No ${code}→${this.siteCurrency} rate on or before ${day}; import one with POST /v1/rates or closeloop rates import`)
    }
    return Math.round(amount * rate * 1e6) / 1e6
  }
}
