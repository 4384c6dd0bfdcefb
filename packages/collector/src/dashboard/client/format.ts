// Number formatting for figures; null means "not defined" (e.g. ROAS without spend).

const cache = new Map<string, Intl.NumberFormat>()
function fmt(key: string, make: () => Intl.NumberFormat): Intl.NumberFormat {
  let f = cache.get(key)
  if (!f) cache.set(key, (f = make()))
  return f
}

export function money(value: number | null, currency: string): string {
  if (value === null || !Number.isFinite(value)) return '—'
  const code = /^[A-Z]{3}$/.test(currency) ? currency : 'USD'
  return fmt(`m${code}`, () => new Intl.NumberFormat('en-US', { style: 'currency', currency: code, maximumFractionDigits: 0 })).format(value)
}

export function num(value: number | null, digits = 0): string {
  if (value === null || !Number.isFinite(value)) return '—'
  return fmt(`n${digits}`, () => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })).format(value)
}

/**
 * A count that may carry fractional credit: whole numbers without decimals ("17 won deals"),
 * fractions with up to two ("2.33"), since models split one deal across several touches.
 */
export function count(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—'
  const rounded = Math.round(value * 100) / 100
  return Number.isInteger(rounded) ? num(rounded) : fmt('c', () => new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })).format(rounded)
}

/** Cost per acquisition is undefined, not free, where no spend was matched. */
export function cacOf(cac: number | null, spend: number | null | undefined): number | null {
  return !spend ? null : cac
}

export function ratio(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : `${num(value, 2)}×`
}

export function pct(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : `${num(value * 100, 1)}%`
}

export function date(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16)
}
