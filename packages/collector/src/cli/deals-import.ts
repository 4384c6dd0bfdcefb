// `closeloop deals import FILE.csv --site N` (columns: dealId, email|externalId|leadId, stage,
// amount, currency, ts). Deals of erased people are refused like on the API.

import { loadInstallKeys } from '../identity/crypto.js'
import { importDealsCsv } from '../outcomes/csv-import.js'
import { Pii } from '../identity/pii.js'
import { runCsvImport } from './import-csv.js'

export function run(argv: string[]): Promise<number> {
  return runCsvImport('deals', argv, (store, site, text, dataDir) =>
    importDealsCsv(store, site, text, new Pii(loadInstallKeys({ dataDir }))))
}
