import { registrable } from './domain.js'

/** GA4 source categories (`ga4-source-categories.csv`). */
export type Category = 'SEARCH' | 'SOCIAL' | 'SHOPPING' | 'VIDEO'
export type SourceTable = Record<string, Category>

/** Builds a lookup table from `|`-separated lists (names may contain spaces: "google shopping"). */
export function sourceTable(lists: Record<Category, string>): SourceTable {
  const t: SourceTable = {}
  for (const c in lists) for (const s of lists[c as Category].split('|')) t[s] = c as Category
  return t
}

/**
 * The names a source is looked up by, most specific first: its full name without
 * `www.`, its registrable domain, and that domain's first label (google.co.uk → google).
 */
export function sourceKeys(source: string): string[] {
  // The argument holds the full name, which saves a variable in the minified script.
  const reg = registrable((source = source.toLowerCase().trim().replace(/^www\./, '')))
  return [source, reg, reg.split('.')[0]]
}

/** Category of a source or referrer host; the most specific listed name wins (shopping.yahoo.com). */
export function categoryIn(table: SourceTable, source: string): Category | null {
  return sourceKeys(source).map((k) => table[k]).find((c) => c) || null
}
