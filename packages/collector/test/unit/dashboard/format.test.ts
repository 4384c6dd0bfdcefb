import { describe, expect, it } from 'vitest'
import { cacOf, count, money } from '../../../src/dashboard/client/format.js'

describe('dashboard figure formatting', () => {
  it('shows whole counts without decimals and fractional credit with up to two', () => {
    expect(count(17)).toBe('17')
    expect(count(1200)).toBe('1,200')
    expect(count(7 / 3)).toBe('2.33')
    expect(count(2.5)).toBe('2.5')
    // Float sums of fractional credit that are whole in fact.
    expect(count(0.1 + 0.2 + 0.7)).toBe('1')
    expect(count(null)).toBe('—')
  })

  it('leaves CAC undefined where no spend was matched', () => {
    expect(money(cacOf(0, 0), 'EUR')).toBe('—')
    expect(money(cacOf(0, null), 'EUR')).toBe('—')
    expect(cacOf(50, 150)).toBe(50)
    expect(cacOf(null, 150)).toBeNull()
  })
})
