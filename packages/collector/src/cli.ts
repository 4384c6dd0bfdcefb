#!/usr/bin/env node
// `closeloop <command>`: a dispatcher only. Each command lives in cli/<name>.ts and exports
// `run(argv)`, so adding one is one line here. Every failure is printed by cli/failure.ts as one
// coded line (plus a hint) and exits 1; `--debug` or CLOSELOOP_DEBUG=1 adds the stack trace of
// an unexpected error.

import { clError, withHint } from './errors.js'
import { formatFailure } from './cli/failure.js'
import { didYouMean } from './suggest.js'

export interface Command {
  run(argv: string[]): Promise<number>
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'serve [--port 8787] [--host 127.0.0.1] [--data DIR] [--database-url URL] [--base-path /_cl] [--public-url URL] [--crm-sync-minutes 15]', load: () => import('./cli/serve.js') },
  sites: { summary: 'sites add --name N --origin URL [--origin URL] [--cookie-domain D] [--currency EUR] | sites update --name N [--stage "CRM name=won"] [--phone-region GB] [--internal-domain D] [--keep-bots|--no-keep-bots] [--retention-days N|keep] … | sites list [--json]', load: () => import('./cli/sites.js') },
  demo: { summary: 'demo [--port 8787] [--site-port P] [--backend-port P] [--data DIR] — collector, example site and form backend on a local SQLite file', load: () => import('./cli/demo.js') },
  report: { summary: 'report --site N [--model linear|all] [--by channel] [--from D --to D] [--conversion won] [--lookback-days 90] [--half-life-days 7] [--journey lead|deal|account] [--ltv-months 36] [--format table|csv|json]', load: () => import('./cli/report.js') },
  spend: { summary: 'spend import FILE.csv --site N [--format auto|google-ads|meta|linkedin|microsoft|closeloop] [--source S] [--medium M]', load: () => import('./cli/spend-import.js') },
  deals: { summary: 'deals import FILE.csv --site N', load: () => import('./cli/deals-import.js') },
  rates: { summary: 'rates import FILE.csv --site N | rates list --site N [--json]', load: () => import('./cli/rates.js') },
  crm: { summary: 'crm add --site N --kind hubspot --token T --client-secret S | --kind salesforce --instance-url URL --org-id ID (--access-token T | --client-id C --client-secret S) | --kind pipedrive --api-token T --webhook-user U --webhook-password P [--api-base URL] [--public-url URL] [--write-back] | crm list [--json] | crm remove ID | crm sync --site N', load: () => import('./cli/crm.js') },
  backup: { summary: 'backup --to FILE [--data DIR] — an online copy of a SQLite store and its key, while serve runs', load: () => import('./cli/backup.js') },
  restore: { summary: 'restore --from FILE --data DIR [--force]', load: () => import('./cli/restore.js') },
  'migrate-store': { summary: 'migrate-store --from-data DIR --to-database-url URL — moves a SQLite store into an empty PostgreSQL database (resumable), then verifies counts and reports', load: () => import('./cli/migrate-store.js') },
  doctor: { summary: 'doctor [--data DIR | --database-url URL] [--public-url URL] — checks a deployment: permissions, key, database, disk, clock, origins, the script', load: () => import('./cli/doctor.js') },
  destinations: { summary: 'destinations add --site N --kind google-ads|google-ads-feed|microsoft-ads-feed|meta|linkedin --send STAGE=NAME[:VALUE] … [platform options] | destinations list [--site N] [--json] | destinations remove ID | destinations status [--site N] [--json]', load: () => import('./cli/destinations.js') },
  erase: { summary: 'erase --site N (--email E | --phone P | --external-id X | --visitor-id V)', load: () => import('./cli/erase.js') },
}

export function usage(): string {
  return ['Usage: closeloop <command> [options]', '', ...Object.values(COMMANDS).map((c) => `  closeloop ${c.summary}`), '',
    'One-shot commands also take --data DIR or --database-url URL to find the store.',
    'Options also come from CLOSELOOP_* environment variables (CLOSELOOP_PORT, CLOSELOOP_DATA, …); flags win.',
    'Add --debug (or CLOSELOOP_DEBUG=1) to see the stack trace of an unexpected error.'].join('\n')
}

/** The flags a command's usage names, for "did you mean" on an unknown one. */
function flagsOf(summary: string): string[] {
  return [...new Set([...(summary.match(/--[a-z][a-z-]*/g) ?? []), '--data', '--database-url', '--debug', '--help'])]
}

/** `sites add` when the command has that subcommand, else `sites`: the name errors are prefixed with. */
function commandName(name: string, sub: string | undefined, summary: string): string {
  return sub !== undefined && !sub.startsWith('-') && summary.split(' | ').some((alt) => alt.startsWith(`${name} ${sub} `) || alt === `${name} ${sub}`) ? `${name} ${sub}` : name
}

/** The usage of just that subcommand when there is one. */
function usageOf(command: string, summary: string): string {
  return summary.split(' | ').find((alt) => command.includes(' ') && alt.startsWith(command)) ?? summary
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const debug = argv.includes('--debug') || /^(1|true|yes)$/i.test(env.CLOSELOOP_DEBUG ?? '')
  const [name, ...rest] = argv.filter((a) => a !== '--debug')
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]] : undefined
    process.stdout.write((topic ? `Usage: closeloop ${topic.summary}` : usage()) + '\n')
    return name === undefined ? 1 : 0
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!entry) {
    const suggestion = name.startsWith('-') ? '' : didYouMean(name, Object.keys(COMMANDS))
    const err = withHint(clError('UNKNOWN_COMMAND', `unknown command "${name}"`),
      [suggestion, `commands: ${Object.keys(COMMANDS).join(', ')} (closeloop help shows their options)`].filter(Boolean).join(' '))
    process.stderr.write(formatFailure(null, err, { debug }))
    return 1
  }
  const command = commandName(name, rest[0], entry.summary)
  const summary = usageOf(command, entry.summary)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: closeloop ${summary}\n`)
    return 0
  }
  try {
    return await (await entry.load()).run(rest)
  } catch (err) {
    process.stderr.write(formatFailure(command, err, { debug, usage: summary, flags: flagsOf(summary) }))
    return 1
  }
}

const code = await main(process.argv.slice(2))
// serve/demo keep running until a signal; the others are done.
if (code !== -1) process.exitCode = code
