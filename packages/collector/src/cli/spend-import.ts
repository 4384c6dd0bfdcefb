// `closeloop spend import FILE.csv --site N` (columns: date, source, medium, campaign, amount, currency).

import { importSpendCsv } from '../outcomes/csv-import.js'
import { runCsvImport } from './import-csv.js'

export function run(argv: string[]): Promise<number> {
  return runCsvImport('spend', argv, (store, site, text) => importSpendCsv(store, site, text))
}
