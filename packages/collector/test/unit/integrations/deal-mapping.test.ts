import { describe, expect, it } from 'vitest'
import type { CrmDeal } from '../../../src/integrations/crm/adapter.js'
import { mapCrmDeal } from '../../../src/integrations/crm/deal-mapping.js'

const deal = (over: Partial<CrmDeal> & { stage?: CrmDeal['stage'] } = {}): CrmDeal => ({
  id: 'deal-1',
  stage: { id: '1234567', label: 'Contract sent', closed: null },
  amount: 1200,
  currency: 'EUR',
  closeDate: Date.UTC(2026, 5, 30),
  modifiedAt: Date.UTC(2026, 0, 10),
  contacts: [],
  ...over,
})

describe('mapCrmDeal', () => {
  it("takes the CRM's closed-won/lost flag over any stage name", () => {
    const won = mapCrmDeal(deal({ stage: { id: '99', label: 'Signed Q4 (finance)', closed: 'won' } }), { 'Signed Q4 (finance)': 'opportunity' })
    expect([won.stage, won.crmStage]).toEqual(['won', 'Signed Q4 (finance)'])
    expect(mapCrmDeal(deal({ stage: { id: 'closedwon', label: 'Closed Won', closed: 'lost' } })).stage).toBe('lost')
  })

  it("maps an open deal's label, then its ID, through the site mapping and the built-in aliases", () => {
    expect(mapCrmDeal(deal(), { 'contract sent': 'opportunity' }).stage).toBe('opportunity')
    expect(mapCrmDeal(deal()).stage).toBe('opportunity') // built-in alias "contractsent"
    expect(mapCrmDeal(deal({ stage: { id: 'appointmentscheduled', label: 'Termin vereinbart', closed: null } })).stage).toBe('sql')
    expect(mapCrmDeal(deal({ stage: { id: '42', label: 'Waiting for legal', closed: null } })).stage).toBeNull()
    expect(mapCrmDeal(deal({ stage: { id: 'qualified', label: '  ', closed: null } })).crmStage).toBe('qualified')
  })

  it('dates a closed deal at its close date and an open one at its last change', () => {
    expect(mapCrmDeal(deal()).ts).toBe(Date.UTC(2026, 0, 10))
    expect(mapCrmDeal(deal({ stage: { id: 'x', label: 'Closed Won', closed: 'won' } })).ts).toBe(Date.UTC(2026, 5, 30))
    expect(mapCrmDeal(deal({ stage: { id: 'x', label: 'Closed Lost', closed: 'lost' }, closeDate: null })).ts).toBe(Date.UTC(2026, 0, 10))
  })

  it('keeps amount and currency and collects each contact once, with its e-mail and visitor ID', () => {
    const m = mapCrmDeal(deal({ contacts: [
      { id: 'c1', email: 'Ada@Example.com', visitorId: 'V1StGXR8_Z5jdHi6B-myT' },
      { id: 'c2', email: null, visitorId: null },
      { id: 'c3', email: ' Ada@Example.com ', visitorId: '' },
      { id: 'c4', email: 'bob@example.com', visitorId: 'V1StGXR8_Z5jdHi6B-myT' },
    ] }))
    expect(m).toMatchObject({ dealId: 'deal-1', amount: 1200, currency: 'EUR' })
    expect(m.people).toEqual([
      { visitorId: 'V1StGXR8_Z5jdHi6B-myT', email: 'Ada@Example.com' },
      { visitorId: 'V1StGXR8_Z5jdHi6B-myT', email: 'bob@example.com' },
    ])
  })
})
