// Shared runner of `closeloop spend|deals|rates import`: the CSV goes straight
// into the store (no running server needed), errors are printed per line, exit code 1 if any.

import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { ImportResult } from '../outcomes/csv-import.js'
import { clError, withHint } from '../errors.js'
import { didYouMean } from '../suggest.js'
import type { Config } from '../config.js'
import type { Site, Store } from '../store/types.js'
import { siteNamed, STORE_OPTIONS, withStore } from './store.js'

export async function runCsvImport(
  what: 'spend' | 'deals' | 'rates',
  argv: string[],
  importer: (store: Store, site: Site, text: string, config: Config) => Promise<ImportResult>,
): Promise<number> {
  const [sub, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { ...STORE_OPTIONS, site: { type: 'string' } },
  })
  if (sub !== 'import') {
    if (sub === undefined) throw clError('USAGE', `${what} needs a subcommand`)
    throw withHint(clError('UNKNOWN_COMMAND', `unknown subcommand "${what} ${sub}"`), didYouMean(sub, what === 'rates' ? ['import', 'list'] : ['import']) || `closeloop ${what} import FILE.csv --site N`)
  }
  if (positionals.length !== 1) throw clError('USAGE', positionals.length === 0 ? 'the CSV file is missing' : `one CSV file at a time (got ${positionals.length})`)
  if (!values.site) throw clError('USAGE', '--site NAME is required')
  const text = await readFile(positionals[0], 'utf8')
  const result = await withStore(values, async (store, config) => {
    const site = await siteNamed(store, values.site)
    return importer(store, site, text, config)
  })
  for (const e of result.errors) process.stderr.write(`${positionals[0]}:${e.line}: ${e.message} (${e.code})\n`)
  process.stdout.write(`${what}: ${result.accepted} of ${result.rows} rows imported${result.errors.length ? `, ${result.errors.length} failed` : ''}\n`)
  if (result.pending) process.stdout.write(`${what}: ${result.pending} not linked to a lead yet (held until that person is identified)\n`)
  return result.errors.length > 0 ? 1 : 0
}

