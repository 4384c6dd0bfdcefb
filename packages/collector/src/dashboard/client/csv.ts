// RFC 4180 CSV with spreadsheet formula-injection protection: a cell that starts with = + - @
// (or a tab/CR, which some spreadsheets strip before evaluating) is prefixed with a single quote,
// following OWASP's CSV-injection guidance. Numbers are written as numbers.

export type Cell = string | number | null | undefined

const FORMULA_START = /^[=+\-@\t\r]/

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  const text = FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n'
}
