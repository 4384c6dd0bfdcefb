// `closeloop serve`: run the collector until SIGTERM/SIGINT.

import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { closeOnSignals, startServer } from '../http/server.js'

export const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  'database-url': { type: 'string' },
  'base-path': { type: 'string' },
} as const

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true })
  const config = loadConfig(values)
  const server = await startServer(config)
  closeOnSignals(() => server.close())
  // A stable line on stdout so scripts (and tests) can find the URL when --port 0 was given.
  process.stdout.write(`closeloop collector listening on ${server.url}\n`)
  return -1
}
