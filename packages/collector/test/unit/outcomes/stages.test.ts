import { describe, expect, it } from 'vitest'
import { mapStage, stageKey } from '../../../src/outcomes/stages.js'

describe('mapStage', () => {
  it('maps Closeloop stages and common CRM names regardless of case and punctuation', () => {
    for (const name of ['won', 'Closed Won', 'closedwon', 'CLOSED_WON', 'Closed - Won']) expect(mapStage(name)).toBe('won')
    expect(mapStage('closedlost')).toBe('lost')
    expect(mapStage('Qualified To Buy')).toBe('sql')
    expect(mapStage('presentationscheduled')).toBe('opportunity')
    expect(mapStage('Marketing Qualified Lead')).toBe('mql')
    expect(mapStage('opportunity')).toBe('opportunity')
    // Pipedrive's default pipeline, in its order.
    expect(['Qualified', 'Contact Made', 'Demo Scheduled', 'Proposal Made', 'Negotiations Started'].map((n) => mapStage(n))).toEqual(['sql', 'sql', 'sql', 'opportunity', 'opportunity'])
  })

  it('lets the site mapping win over the built-in aliases', () => {
    const mapping = { 'Stage 4 - Signed': 'won' as const, 'Closed Won': 'opportunity' as const }
    expect(mapStage('stage 4 signed', mapping)).toBe('won')
    expect(mapStage('closed won', mapping)).toBe('opportunity')
  })

  it('returns null for unknown or empty names', () => {
    expect(mapStage('Waiting for legal')).toBeNull()
    expect(mapStage(' -- ')).toBeNull()
    expect(mapStage('constructor')).toBeNull()
    expect(mapStage('__proto__', {})).toBeNull()
  })

  it('normalises names to letters and digits', () => {
    expect(stageKey('  Closed–Won ')).toBe('closedwon')
  })
})
