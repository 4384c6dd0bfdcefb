// CRM stage names → Closeloop stages. A site's own mapping (settings.stageMapping) wins;
// then built-in aliases of the common CRMs (Salesforce, HubSpot, Pipedrive, Close). Names are
// compared after lower-casing and dropping everything but letters and digits, so "Closed Won",
// "closed_won", "closedwon" and "Closed - Won" are one name.

import { STAGES, type Stage } from '../store/types.js'

export function stageKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '')
}

const ALIASES: Record<Stage, readonly string[]> = {
  lead: ['lead', 'new', 'newlead', 'open', 'subscriber', 'contact', 'inbound', 'unqualified'],
  mql: ['mql', 'marketingqualified', 'marketingqualifiedlead', 'engaged', 'nurture'],
  sql: [
    'sql', 'salesqualified', 'salesqualifiedlead', 'qualified', 'qualifiedtobuy', 'qualification',
    'appointmentscheduled', 'meetingbooked', 'discovery', 'demoscheduled', 'sal', 'salesaccepted',
    'contactmade',
  ],
  opportunity: [
    'opportunity', 'opp', 'pipeline', 'presentationscheduled', 'decisionmakerboughtin', 'proposal',
    'proposalsent', 'proposalpricequote', 'quote', 'contractsent', 'negotiation', 'negotiationreview',
    'valueproposition', 'perceptionanalysis', 'needsanalysis', 'iddecisionmakers', 'evaluation',
    'proposalmade', 'negotiationsstarted',
  ],
  won: ['won', 'closedwon', 'closewon', 'win', 'dealwon', 'customer', 'closedwonpaid', 'signed'],
  lost: ['lost', 'closedlost', 'closelost', 'deallost', 'disqualified', 'churned', 'closedlostnoresponse'],
}

const BUILT_IN: ReadonlyMap<string, Stage> = new Map(
  (Object.entries(ALIASES) as Array<[Stage, readonly string[]]>).flatMap(([stage, names]) => names.map((n) => [n, stage] as const)),
)

export function isStage(v: string): v is Stage {
  return (STAGES as readonly string[]).includes(v)
}

/**
 * Resolve a CRM stage name. Returns null for a name neither the site mapping nor the built-in
 * aliases know (the caller rejects it with CL_ERR_UNKNOWN_STAGE rather than guessing).
 */
export function mapStage(name: string, siteMapping?: Record<string, Stage> | null): Stage | null {
  const key = stageKey(name)
  if (key === '') return null
  if (siteMapping) {
    for (const [crm, stage] of Object.entries(siteMapping)) {
      if (stageKey(crm) === key && isStage(stage)) return stage
    }
  }
  return BUILT_IN.get(key) ?? null
}
