// `closeloop erase --site N (--email E | --phone P | --external-id X | --visitor-id V)`: the same
// erasure as POST /v1/privacy/erase, straight on the store — for a request that arrives
// by mail rather than through an integration. Needs the installation's encryption key (the data
// folder's key file or CLOSELOOP_SECRET_KEY) to find the person's other identifiers.

import { parseArgs } from 'node:util'
import { erasePerson } from '../identity/erase.js'
import { clError } from '../errors.js'
import { Pii } from '../identity/pii.js'
import { personSchema } from '../ingest/schemas.js'
import { parseOr } from '../http/validate.js'
import { installKeys, siteNamed, STORE_OPTIONS, withStore } from './store.js'

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      site: { type: 'string' },
      email: { type: 'string' },
      phone: { type: 'string' },
      'external-id': { type: 'string' },
      'visitor-id': { type: 'string' },
    },
  })
  if (!values.site) throw clError('USAGE', '--site NAME is required')
  const input = parseOr(personSchema, { email: values.email, phone: values.phone, externalId: values['external-id'], visitorId: values['visitor-id'] })
  const erased = await withStore(values, async (store, config) => {
    const site = await siteNamed(store, values.site)
    return erasePerson(store, new Pii(await installKeys(store, config)), site, input)
  })
  process.stdout.write(`Erased ${erased.leads} lead(s), ${erased.visitors} visitor(s), ${erased.events} event(s), ${erased.deals} deal(s); their identifiers are suppressed.\n`)
  return 0
}
