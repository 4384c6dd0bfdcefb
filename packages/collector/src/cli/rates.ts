// `closeloop rates import FILE.csv --site N` (columns: date?, currency, rate — 1 unit of currency =
// rate units of the site currency; no date = a standing rate) and `closeloop rates list --site N`:
// the same rates as POST/GET /v1/rates, straight on the store.

import { parseArgs } from 'node:util'
import { clError } from '../errors.js'
import { importRatesCsv } from '../outcomes/csv-import.js'
import { runCsvImport } from './import-csv.js'
import { siteNamed, STORE_OPTIONS, withStore } from './store.js'

async function list(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...STORE_OPTIONS, site: { type: 'string' }, json: { type: 'boolean' } } })
  if (!values.site) throw clError('USAGE', '--site NAME is required')
  const { currency, rates } = await withStore(values, async (store) => {
    const site = await siteNamed(store, values.site)
    return { currency: site.currency, rates: await store.listRates(site.id) }
  })
  if (values.json) {
    process.stdout.write(JSON.stringify({ currency, rates }, null, 2) + '\n')
    return 0
  }
  if (rates.length === 0) {
    process.stdout.write(`No exchange rates yet (site currency ${currency}): closeloop rates import FILE.csv --site ${values.site}\n`)
    return 0
  }
  process.stdout.write(`date\tcurrency\trate (in ${currency})\n`)
  for (const r of rates) process.stdout.write(`${r.date ?? 'standing'}\t${r.currency}\t${r.rate}\n`)
  return 0
}

export function run(argv: string[]): Promise<number> {
  if (argv[0] === 'list') return list(argv.slice(1))
  return runCsvImport('rates', argv, (store, site, text) => importRatesCsv(store, site, text))
}
