// `closeloop sites add|update|list`. `sites add` may start a new store (it says so); the others
// need an existing one.

import { parseArgs } from 'node:util'
import { clError, withHint } from '../errors.js'
import { didYouMean } from '../suggest.js'
import { createSite, updateSite } from '../sites/admin.js'
import { STORE_OPTIONS, withStore } from './store.js'

/** The flags `sites add` and `sites update` share. */
const SITE_OPTIONS = {
  ...STORE_OPTIONS,
  name: { type: 'string' },
  origin: { type: 'string', multiple: true },
  'cookie-domain': { type: 'string' },
  currency: { type: 'string' },
} as const

async function add(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...SITE_OPTIONS,
    },
  })
  if (!values.name) throw clError('USAGE', '--name is required')
  const created = await withStore(values, (store) =>
    createSite(store, { name: values.name ?? '', origins: values.origin ?? [], cookieDomain: values['cookie-domain'], currency: values.currency }), { command: 'sites add' })
  process.stdout.write([
    `Site "${created.site.name}" created.`,
    `  public key: ${created.site.publicKey}`,
    `  secret key: ${created.secretKey}`,
    '  The secret key is shown only this once; store it now (server-side only, never in a browser).',
    '',
  ].join('\n'))
  return 0
}

async function update(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...SITE_OPTIONS,
      'phone-region': { type: 'string' },
      stage: { type: 'string', multiple: true },
      'internal-domain': { type: 'string', multiple: true },
      'keep-bots': { type: 'boolean' },
      'no-keep-bots': { type: 'boolean' },
      'retention-days': { type: 'string' },
    },
  })
  if (!values.name) throw clError('USAGE', '--name is required')
  const site = await withStore(values, (store) =>
    updateSite(store, values.name ?? '', {
      origins: values.origin, cookieDomain: values['cookie-domain'], currency: values.currency, phoneRegion: values['phone-region'],
      stages: values.stage, internalDomains: values['internal-domain'],
      keepBots: values['keep-bots'] ? true : values['no-keep-bots'] ? false : undefined,
      retentionDays: values['retention-days'],
    }))
  process.stdout.write(`Site "${site.name}" updated.\n${JSON.stringify({ origins: site.origins, cookieDomain: site.cookieDomain, currency: site.currency, settings: site.settings }, null, 2)}\n`)
  return 0
}

async function list(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...STORE_OPTIONS, json: { type: 'boolean' } } })
  const sites = await withStore(values, (store) => store.listSites())
  if (values.json) {
    process.stdout.write(JSON.stringify(sites.map(({ id, name, publicKey, origins, cookieDomain, currency }) => ({ id, name, publicKey, origins, cookieDomain, currency })), null, 2) + '\n')
    return 0
  }
  if (sites.length === 0) process.stdout.write('No sites yet: closeloop sites add --name N --origin https://example.com\n')
  for (const s of sites) {
    process.stdout.write(`${s.name}\t${s.publicKey}\t${s.origins.join(',')}\t${s.cookieDomain ?? '-'}\t${s.currency}\n`)
  }
  return 0
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'add') return add(rest)
  if (sub === 'update') return update(rest)
  if (sub === 'list') return list(rest)
  const subs = ['add', 'update', 'list']
  if (sub === undefined) throw clError('USAGE', `sites needs a subcommand: ${subs.join(', ')}`)
  throw withHint(clError('UNKNOWN_COMMAND', `unknown subcommand "sites ${sub}"`), [didYouMean(sub, subs), `closeloop sites ${subs.join('|')} …`].filter(Boolean).join(' '))
}
