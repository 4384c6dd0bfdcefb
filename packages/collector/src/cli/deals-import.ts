// `closeloop deals import FILE.csv --site N` (columns: dealId, email|externalId|leadId, stage,
// amount, currency, ts). Deals of erased people are refused like on the API.

import { importDealsCsv } from '../outcomes/csv-import.js'
import { Pii } from '../identity/pii.js'
import { runCsvImport } from './import-csv.js'
import { installKeys } from './store.js'

export function run(argv: string[]): Promise<number> {
  return runCsvImport('deals', argv, async (store, site, text, config) =>
    importDealsCsv(store, site, text, new Pii(await installKeys(store, config))))
}
