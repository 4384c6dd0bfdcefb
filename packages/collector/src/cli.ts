#!/usr/bin/env node
// `closeloop <command>`: a dispatcher only. Each command lives in cli/<name>.ts and exports
// `run(argv)`, so adding one (report, deals, spend, erase) is one line here.

import { asClError } from './errors.js'

export interface Command {
  run(argv: string[]): Promise<number>
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'serve [--port 8787] [--host 127.0.0.1] [--data DIR] [--database-url URL] [--base-path /_cl]', load: () => import('./cli/serve.js') },
  sites: { summary: 'sites add --name N --origin URL [--origin URL] [--cookie-domain D] [--currency EUR] | sites update --name N [--stage "CRM name=won"] [--phone-region GB] … | sites list', load: () => import('./cli/sites.js') },
  demo: { summary: 'demo [--port 8787] — collector, example site and form backend on a local SQLite file', load: () => import('./cli/demo.js') },
  report: { summary: 'report --site N [--model linear|all] [--by channel] [--from D --to D] [--conversion won] [--format table|csv|json]', load: () => import('./cli/report.js') },
  spend: { summary: 'spend import FILE.csv --site N [--format auto|google-ads|meta|linkedin|microsoft|closeloop] [--source S] [--medium M]', load: () => import('./cli/spend-import.js') },
  deals: { summary: 'deals import FILE.csv --site N', load: () => import('./cli/deals-import.js') },
  erase: { summary: 'erase --site N (--email E | --phone P | --external-id X | --visitor-id V)', load: () => import('./cli/erase.js') },
}

export function usage(): string {
  return ['Usage: closeloop <command> [options]', '', ...Object.values(COMMANDS).map((c) => `  closeloop ${c.summary}`), '',
    'Options also come from CLOSELOOP_* environment variables (CLOSELOOP_PORT, CLOSELOOP_DATA, …); flags win.'].join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n')
    return name === undefined ? 1 : 0
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!entry) {
    process.stderr.write(`closeloop: unknown command "${name}"\n\n${usage()}\n`)
    return 1
  }
  try {
    return await (await entry.load()).run(rest)
  } catch (err) {
    const coded = asClError(err)
    if (coded) {
      process.stderr.write(`closeloop ${name}: ${coded.message} (${coded.code})\n`)
      return 1
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`closeloop ${name}: ${err.message}\n\n${usage()}\n`)
      return 1
    }
    throw err
  }
}

const code = await main(process.argv.slice(2))
// serve/demo keep running until a signal; the others are done.
if (code !== -1) process.exitCode = code
