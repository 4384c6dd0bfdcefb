// Every CRM connector of this build, by kind. A new CRM is one adapter file plus its line in
// CRM_ADAPTERS; `crmAdapter('x')` of a kind without one is CL_ERR_UNKNOWN_CRM_KIND.

import { AdapterRegistry } from '../adapter-registry.js'
import { CRM_KINDS, type CrmAdapter, type CrmKind } from './adapter.js'
import { hubspotAdapter } from './hubspot.js'
import { salesforceAdapter } from './salesforce.js'
import { pipedriveAdapter } from './pipedrive.js'

/** The connectors, one line each. */
const CRM_ADAPTERS: readonly CrmAdapter[] = [
  hubspotAdapter as CrmAdapter,
  salesforceAdapter as CrmAdapter,
  pipedriveAdapter as CrmAdapter,
]

export const createCrmRegistry = (adapters: readonly CrmAdapter[]): AdapterRegistry<CrmKind, CrmAdapter> =>
  new AdapterRegistry({ kinds: CRM_KINDS, error: 'UNKNOWN_CRM_KIND', noun: 'CRM' }, adapters)
export const crmRegistry = createCrmRegistry(CRM_ADAPTERS)
export const crmAdapter = (kind: string): CrmAdapter => crmRegistry.get(kind)
