// `closeloop serve`: run the collector until SIGTERM/SIGINT. On a data folder without a store it
// starts one, and says so on stderr.

import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { closeOnSignals, startServer } from '../http/server.js'
import { probePort } from './ports.js'
import { announceNewStore } from './store.js'

export const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  'database-url': { type: 'string' },
  'base-path': { type: 'string' },
  'public-url': { type: 'string' },
  'crm-sync-minutes': { type: 'string' },
  'report-budget-ms': { type: 'string' },
} as const

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true })
  const config = loadConfig(values)
  // A port in use fails before a new store is started for nothing.
  if (config.port !== 0) await probePort(config.port, config.host)
  announceNewStore('serve', config)
  const server = await startServer(config)
  closeOnSignals(() => server.close())
  // A stable line on stdout so scripts (and tests) can find the URL when --port 0 was given.
  process.stdout.write(`closeloop collector listening on ${server.url}\n`)
  return -1
}
