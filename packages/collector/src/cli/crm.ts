// `closeloop crm add|list|remove|sync`: a site's CRM connections. Secrets (tokens, client
// secrets) are stored encrypted with the installation's key and never printed again.

import { parseArgs } from 'node:util'
import { clError, withHint } from '../errors.js'
import { loadInstallKeys } from '../identity/crypto.js'
import { Pii } from '../identity/pii.js'
import { addConnection, connectionStatus, inboundPathOf } from '../integrations/crm/connections.js'
import { crmAdapter } from '../integrations/crm/registry.js'
import { syncConnection } from '../integrations/crm/inbox.js'
import type { FetchLike } from '../integrations/types.js'
import type { CrmConnectionRecord } from '../store/types.js'
import { didYouMean } from '../suggest.js'
import { installKeys, siteNamed, STORE_OPTIONS, withStore } from './store.js'


async function add(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      site: { type: 'string' },
      kind: { type: 'string' },
      token: { type: 'string' },
      'client-secret': { type: 'string' },
      'api-base': { type: 'string' },
      'instance-url': { type: 'string' },
      'access-token': { type: 'string' },
      'client-id': { type: 'string' },
      'org-id': { type: 'string' },
      'email-field': { type: 'string' },
      'api-version': { type: 'string' },
      'path-token': { type: 'string' },
      'api-token': { type: 'string' },
      'webhook-user': { type: 'string' },
      'webhook-password': { type: 'string' },
      'public-url': { type: 'string' },
      'write-back': { type: 'boolean' },
    },
  })
  if (!values.kind) throw clError('USAGE', '--kind is required (hubspot, salesforce, pipedrive)')
  const { site: siteName, kind, data: _d, 'database-url': _u, 'write-back': writeBack, ...options } = values
  const { record, inbound } = await withStore(values, async (store, config) => {
    const site = await siteNamed(store, siteName)
    const key = loadInstallKeys({ dataDir: config.dataDir }).integrationKey
    const added = await addConnection(store, key, { site, kind, options, writeBack: writeBack === true })
    return { record: added, inbound: inboundPathOf(added, key) }
  })
  process.stdout.write([
    `CRM connection ${record.id} added (${record.kind}, site "${siteName}")${record.writeBack ? ', with write-back' : ''}.`,
    `inbound: ${inbound}`,
    '  Point the CRM\'s webhooks at the collector\'s public URL followed by that path. The secrets are stored encrypted and not shown again.',
    ...(crmAdapter(record.kind).pathTokenOption !== undefined ? ['  The path ends in a secret token: keep the whole URL as secret as a password.'] : []),
    '',
  ].join('\n'))
  return 0
}

const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString())

async function list(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...STORE_OPTIONS, json: { type: 'boolean' } } })
  const rows = await withStore(values, async (store) => {
    const sites = new Map((await store.listSites()).map((s) => [s.id, s.name]))
    const outbox = new Map((await store.crmOutboxCounts()).map((o) => [o.connectionId, o]))
    return (await store.listCrmConnections()).map((c: CrmConnectionRecord) => {
      const { createdAt: _created, ...status } = connectionStatus(c, outbox.get(c.id))
      return { ...status, site: sites.get(c.siteId) ?? c.siteId }
    })
  })
  if (values.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n')
    return 0
  }
  if (rows.length === 0) {
    process.stdout.write('No CRM connections yet: closeloop crm add --site N --kind hubspot --token T --client-secret S\n')
    return 0
  }
  process.stdout.write('id\tkind\tsite\tlast event\tlast sync\terrors\n')
  for (const r of rows) {
    process.stdout.write(`${r.id}\t${r.kind}\t${r.site}\t${when(r.lastEventAt)}\t${when(r.lastSyncAt)}\t${r.errors}${r.lastError ? ` (last ${when(r.lastErrorAt)}: ${r.lastError})` : ''}\n`)
    const w = r.writeBacks
    if (r.writeBack || w.sent + w.pending + w.failed > 0) {
      process.stdout.write(`  write-back${r.writeBack ? '' : ' (off)'}: ${w.sent} sent, ${w.pending} pending, ${w.failed} failed${w.lastError ? ` (last error ${when(w.lastErrorAt)}: ${w.lastError})` : ''}\n`)
    }
  }
  return 0
}

async function remove(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { ...STORE_OPTIONS } })
  const id = positionals[0]
  if (id === undefined || positionals.length > 1) throw clError('USAGE', 'crm remove takes one connection ID (closeloop crm list shows them)')
  const removed = await withStore(values, (store) => store.removeCrmConnection(id))
  if (!removed) throw withHint(clError('CRM_CONNECTION_NOT_FOUND', `No CRM connection "${id}"`), 'closeloop crm list shows the IDs')
  process.stdout.write(`CRM connection ${id} removed.\n`)
  return 0
}

async function sync(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...STORE_OPTIONS, site: { type: 'string' } } })
  let failed = false
  await withStore(values, async (store, config) => {
    const site = await siteNamed(store, values.site)
    const keys = await installKeys(store, config)
    const ctx = { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env: { fetch: globalThis.fetch as FetchLike, now: Date.now } }
    const connections = (await store.listCrmConnections()).filter((c) => c.siteId === site.id)
    if (connections.length === 0) process.stdout.write(`Site "${site.name}" has no CRM connection: closeloop crm add --site ${site.name} --kind hubspot …\n`)
    for (const c of connections) {
      const r = await syncConnection(ctx, c)
      process.stdout.write(`${c.id} (${c.kind}): ${r.deals} deal(s) written, ${r.skipped} without a contact e-mail, ${r.errors.length} error(s)\n`)
      for (const e of r.errors.slice(0, 20)) process.stdout.write(`  ${e}\n`)
      if (r.errors.length > 0) failed = true
    }
  })
  return failed ? 1 : 0
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'add') return add(rest)
  if (sub === 'list') return list(rest)
  if (sub === 'remove') return remove(rest)
  if (sub === 'sync') return sync(rest)
  const subs = ['add', 'list', 'remove', 'sync']
  if (sub === undefined) throw clError('USAGE', `crm needs a subcommand: ${subs.join(', ')}`)
  throw withHint(clError('UNKNOWN_COMMAND', `unknown subcommand "crm ${sub}"`), [didYouMean(sub, subs), `closeloop crm ${subs.join('|')} …`].filter(Boolean).join(' '))
}
