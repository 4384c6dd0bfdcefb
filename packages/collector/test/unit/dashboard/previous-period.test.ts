import { describe, expect, it } from 'vitest'
import { change, previousPeriod } from '../../../src/dashboard/client/period.js'

describe('dashboard comparison with the previous period', () => {
  it('shifts from/to back by the range length in whole days', () => {
    const q = { model: 'linear', conversion: 'won', from: '2024-03-01', to: '2024-03-30' } as const
    expect(previousPeriod(q)).toEqual({ days: 30, query: { ...q, from: '2024-01-31', to: '2024-02-29' } })
    expect(previousPeriod({ ...q, from: '2024-03-01', to: '2024-03-01' }).query).toMatchObject({ from: '2024-02-29', to: '2024-02-29' })
  })

  it('states the change in percent, in points for shares, and when there is nothing to compare', () => {
    expect(change(112, 100, 30)).toBe('+12% vs previous 30 days')
    expect(change(8000, 12000, 21)).toBe('−33% vs previous 21 days')
    expect(change(5, 5, 1)).toBe('±0% vs previous 1 day')
    expect(change(5, 0, 7)).toBe('new vs previous 7 days')
    expect(change(null, 3, 7)).toBe('— vs previous 7 days')
    expect(change(0.75, 0.5, 30, true)).toBe('+25.0 pts vs previous 30 days')
  })
})
