// `closeloop destinations add|list|remove|status`: a site's ad-platform destinations. Platform
// options vary by kind (the adapter validates them), so any `--name value` beyond the shared ones
// is handed to it; a repeated option arrives as one value, its entries on separate lines. Secrets
// are stored encrypted; a feed's password is printed once and stored only hashed.

import { clError, withHint } from '../errors.js'
import { loadInstallKeys } from '../identity/crypto.js'
import { addDestination, feedPath } from '../integrations/destinations/destinations.js'
import { destinationRegistry } from '../integrations/destinations/registry.js'
import { stageStatus } from '../reports/destinations.js'
import type { DestinationRecord } from '../store/types.js'
import { didYouMean } from '../suggest.js'
import { siteNamed, withStore } from './store.js'

interface Parsed {
  flags: Record<string, string | boolean | undefined>
  send: string[]
  options: Record<string, string | boolean>
  positionals: string[]
}

const SHARED = new Set(['site', 'kind', 'data', 'database-url', 'json', 'send', 'public-url'])

/** `--name value`, `--name=value` and bare `--flag`; shared flags apart, the rest are the platform's options. */
function parse(argv: readonly string[], allowOptions: boolean): Parsed {
  const out: Parsed = { flags: {}, send: [], options: {}, positionals: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) { out.positionals.push(a); continue }
    const eq = a.indexOf('=')
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq)
    let value: string | boolean = true
    if (eq >= 0) value = a.slice(eq + 1)
    else if (name !== 'json' && i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i]
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw clError('USAGE', `unknown option "${a.slice(0, 40)}"`)
    if (name === 'send') {
      if (typeof value !== 'string') throw clError('BAD_SEND', '--send needs a value: STAGE=NAME[:VALUE]')
      out.send.push(value)
    } else if (SHARED.has(name)) {
      out.flags[name] = value
    } else if (allowOptions) {
      const prev = out.options[name]
      out.options[name] = typeof prev === 'string' && typeof value === 'string' ? `${prev}\n${value}` : value
    } else {
      throw clError('USAGE', `unknown option --${name}`)
    }
  }
  return out
}

const storeFlags = (p: Parsed) => ({ data: p.flags.data as string | undefined, 'database-url': p.flags['database-url'] as string | undefined })

async function add(argv: string[]): Promise<number> {
  const p = parse(argv, true)
  const kind = p.flags.kind
  if (typeof kind !== 'string') throw clError('USAGE', `--kind is required (${destinationRegistry.available().join(', ')})`)
  if (p.positionals.length > 0) throw clError('USAGE', `unexpected argument "${p.positionals[0].slice(0, 40)}"`)
  const siteName = typeof p.flags.site === 'string' ? p.flags.site : undefined
  const publicUrl = typeof p.flags['public-url'] === 'string' ? p.flags['public-url'].replace(/\/+$/, '') : null
  const { record, feed } = await withStore(storeFlags(p), async (store, config) => {
    const site = await siteNamed(store, siteName)
    return addDestination(store, loadInstallKeys({ dataDir: config.dataDir }).integrationKey, { site, kind, options: p.options, send: p.send })
  })
  const stages = Object.entries(record.send).map(([stage, a]) => `${stage} → "${a.name}" (${a.value === null ? 'deal amount' : a.value})`).join(', ')
  const lines = [`Destination ${record.id} added (${record.kind}, site "${siteName}"): ${stages}.`]
  if (feed) {
    lines.push(
      `feed: ${publicUrl ?? '<the collector\'s public URL>'}${feedPath(record.id)}`,
      `  user: ${feed.user}`,
      `  password: ${feed.password}`,
      '  Enter these in the platform\'s scheduled upload (HTTPS source). The password is stored only hashed and is not shown again.',
    )
  } else {
    lines.push('  Conversions are sent by `closeloop serve`. The secrets are stored encrypted and not shown again.')
  }
  process.stdout.write(lines.join('\n') + '\n\n')
  return 0
}

const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString())

const sendText = (d: DestinationRecord): string => Object.entries(d.send).map(([s, a]) => `${s}=${a.name}${a.value === null ? '' : `:${a.value}`}`).join(' ')

async function list(argv: string[]): Promise<number> {
  const p = parse(argv, false)
  const rows = await withStore(storeFlags(p), async (store) => {
    const sites = new Map((await store.listSites()).map((s) => [s.id, s.name]))
    const siteId = typeof p.flags.site === 'string' ? (await siteNamed(store, p.flags.site)).id : undefined
    return (await store.listDestinations(siteId)).map((d) => ({
      id: d.id, kind: d.kind, site: sites.get(d.siteId) ?? d.siteId, send: d.send, feed: d.feedUser === null ? null : feedPath(d.id), createdAt: d.createdAt,
      lastSentAt: d.lastSentAt, lastError: d.lastError, lastErrorAt: d.lastErrorAt, record: d,
    }))
  })
  if (p.flags.json === true) {
    process.stdout.write(JSON.stringify(rows.map(({ record: _r, ...r }) => r), null, 2) + '\n')
    return 0
  }
  if (rows.length === 0) {
    process.stdout.write('No destinations yet: closeloop destinations add --site N --kind google-ads-feed --send won="Closed deal"\n')
    return 0
  }
  process.stdout.write('id\tkind\tsite\tsends\tfeed\tlast sent\n')
  for (const r of rows) {
    const d = r.record
    const failing = d.lastErrorAt !== null && (d.lastSentAt === null || d.lastErrorAt > d.lastSentAt)
    process.stdout.write(`${r.id}\t${r.kind}\t${r.site}\t${sendText(d)}\t${r.feed ?? '-'}\t${when(d.lastSentAt)}${failing ? ` (failing since ${when(d.lastErrorAt)}: ${d.lastError})` : ''}\n`)
  }
  return 0
}

async function remove(argv: string[]): Promise<number> {
  const p = parse(argv, false)
  const id = p.positionals[0]
  if (id === undefined || p.positionals.length > 1) throw clError('USAGE', 'destinations remove takes one destination ID (closeloop destinations list shows them)')
  const removed = await withStore(storeFlags(p), (store) => store.removeDestination(id))
  if (!removed) throw withHint(clError('DESTINATION_NOT_FOUND', `No destination "${id}"`), 'closeloop destinations list shows the IDs')
  process.stdout.write(`Destination ${id} removed, with its conversion rows.\n`)
  return 0
}

async function status(argv: string[]): Promise<number> {
  const p = parse(argv, false)
  const id = p.positionals[0]
  const out = await withStore(storeFlags(p), async (store) => {
    const siteId = typeof p.flags.site === 'string' ? (await siteNamed(store, p.flags.site)).id : undefined
    let destinations = await store.listDestinations(siteId)
    if (id !== undefined) {
      destinations = destinations.filter((d) => d.id === id)
      if (destinations.length === 0) throw withHint(clError('DESTINATION_NOT_FOUND', `No destination "${id}"`), 'closeloop destinations list shows the IDs')
    }
    const counts = await store.conversionCounts(siteId)
    return destinations.map((d) => ({ id: d.id, kind: d.kind, lastSentAt: d.lastSentAt, lastError: d.lastError, lastErrorAt: d.lastErrorAt, stages: stageStatus(counts.filter((c) => c.destinationId === d.id), d.send) }))
  })
  if (p.flags.json === true) {
    process.stdout.write(JSON.stringify(out, null, 2) + '\n')
    return 0
  }
  if (out.length === 0) process.stdout.write('No destinations yet.\n')
  for (const d of out) {
    process.stdout.write(`${d.id} (${d.kind})${d.lastErrorAt !== null && (d.lastSentAt === null || d.lastErrorAt > d.lastSentAt) ? ` failing since ${when(d.lastErrorAt)}: ${d.lastError}` : ''}\n`)
    if (d.stages.length === 0) process.stdout.write('  nothing queued yet\n')
    for (const s of d.stages) {
      process.stdout.write(`  ${s.stage}${s.conversionName ? ` ("${s.conversionName}")` : ''}: ${s.sent} sent, ${s.pending} pending, ${s.failed} failed, ${s.unmatched} not sendable\n`)
      for (const r of s.reasons.slice(0, 10)) process.stdout.write(`    ${r.rows} ${r.status === 'unmatched' ? 'not sendable' : r.status === 'pending' ? 'retrying' : r.status}: ${r.reason}\n`)
    }
  }
  return 0
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'add') return add(rest)
  if (sub === 'list') return list(rest)
  if (sub === 'remove') return remove(rest)
  if (sub === 'status') return status(rest)
  const subs = ['add', 'list', 'remove', 'status']
  if (sub === undefined) throw clError('USAGE', `destinations needs a subcommand: ${subs.join(', ')}`)
  throw withHint(clError('UNKNOWN_COMMAND', `unknown subcommand "destinations ${sub}"`), [didYouMean(sub, subs), `closeloop destinations ${subs.join('|')} …`].filter(Boolean).join(' '))
}
