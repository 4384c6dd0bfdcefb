// `closeloop spend import FILE.csv --site N [--format auto|closeloop|google-ads|meta|linkedin|microsoft]
//  [--source S] [--medium M]`: our columns (date, source, medium, campaign, amount, currency) or an
// ad platform's report export as downloaded, recognised by its header (outcomes/spend-exports.ts).

import { clError } from '../errors.js'
import { importSpendCsv } from '../outcomes/csv-import.js'
import type { SpendExportOptions } from '../outcomes/spend-exports.js'
import { runCsvImport } from './import-csv.js'

const OWN_FLAGS = /^--(format|source|medium)(?:=(.*))?$/

/** This command's flags out of argv; the rest go to the shared import runner. */
function ownFlags(argv: string[]): { opts: SpendExportOptions; rest: string[] } {
  const opts: SpendExportOptions = {}
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const m = OWN_FLAGS.exec(argv[i])
    if (!m) { rest.push(argv[i]); continue }
    const value = m[2] ?? argv[++i]
    if (value === undefined) throw clError('VALIDATION', `--${m[1]} needs a value`)
    opts[m[1] as keyof SpendExportOptions] = value
  }
  return { opts, rest }
}

export function run(argv: string[]): Promise<number> {
  const { opts, rest } = ownFlags(argv)
  return runCsvImport('spend', rest, async (store, site, text) => {
    const r = await importSpendCsv(store, site, text, opts)
    // Only a platform export says what it was read as: our own columns need no explanation.
    if (r.format !== 'closeloop') {
      const as = r.source !== undefined ? ` as ${r.source} / ${r.medium ?? ''}` : ''
      process.stdout.write(`spend: ${r.label} export${as}${r.skipped ? `, ${r.skipped} total/summary lines skipped` : ''}\n`)
    }
    return r
  })
}
