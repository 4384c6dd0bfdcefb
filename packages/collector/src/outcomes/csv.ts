// RFC 4180 CSV, both ways, without a dependency: quoted fields, doubled quotes, CRLF/LF/CR line
// ends, a leading UTF-8 BOM, newlines inside quotes. Each record carries the line it started on so
// importers can point at the offending line.

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number
  fields: string[]
}

export class CsvSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`)
  }
}

/**
 * Parse CSV text into records. Blank lines are skipped. A quote inside an unquoted field is kept
 * literally (lenient, like spreadsheets); an unterminated quoted field is a syntax error.
 */
export function parseCsv(text: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const out: CsvRecord[] = []
  let line = 1
  let i = 0
  const n = s.length
  while (i < n) {
    const start = line
    const fields: string[] = []
    let endOfRecord = false
    while (!endOfRecord) {
      let field = ''
      if (s[i] === '"') {
        i++
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(start, 'unterminated quoted field')
          const c = s[i]
          if (c === '"') {
            if (s[i + 1] === '"') { field += '"'; i += 2; continue }
            i++
            break
          }
          if (c === '\n' || (c === '\r' && s[i + 1] !== '\n')) line++
          field += c
          i++
        }
        // Text after a closing quote up to the delimiter is kept, as spreadsheets do.
        while (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') field += s[i++]
      } else {
        const from = i
        while (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') i++
        field = s.slice(from, i)
      }
      fields.push(field)
      if (i >= n) endOfRecord = true
      else if (s[i] === ',') i++
      else {
        i += s[i] === '\r' && s[i + 1] === '\n' ? 2 : 1
        line++
        endOfRecord = true
      }
    }
    if (!(fields.length === 1 && fields[0] === '')) out.push({ line: start, fields })
  }
  return out
}

export interface CsvTable {
  /** Header names, trimmed and lower-cased. */
  header: string[]
  /** Data rows keyed by header name; missing trailing cells are ''. */
  rows: Array<{ line: number; values: Record<string, string> }>
}

/** Parse CSV whose first record is a header. */
export function parseCsvTable(text: string): CsvTable {
  const records = parseCsv(text)
  if (records.length === 0) return { header: [], rows: [] }
  const header = records[0].fields.map((h) => h.trim().toLowerCase())
  const rows = records.slice(1).map((r) => {
    const values: Record<string, string> = Object.create(null) as Record<string, string>
    header.forEach((h, k) => { values[h] = r.fields[k] ?? '' })
    return { line: r.line, values }
  })
  return { header, rows }
}

/** Formula-looking cells are prefixed with ' so spreadsheets never execute tracked text. */
function neutralise(v: string): string {
  return /^[=+\-@\t\r]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v) ? `'${v}` : v
}

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return ''
  const v = neutralise(String(value))
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

/** Records → CSV text with CRLF line ends (RFC 4180). */
export function formatCsv(rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n'
}
