import { describe, expect, it } from 'vitest'
import { newLeadId } from '../../../src/store/lead-id.js'

describe('newLeadId', () => {
  it('is 21 URL-safe characters, unique, and sorts (bytewise) by its millisecond', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => newLeadId(1_767_225_600_000 + Math.floor(i / 10)))
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[A-Za-z0-9_-]{21}$/)
    expect(new Set(ids).size).toBe(ids.length)
    // Every later millisecond sorts after every earlier one (within one, the order is random).
    for (let i = 10; i < ids.length; i += 10) expect(ids[i - 1].slice(0, 8) < ids[i].slice(0, 8)).toBe(true)
    const shuffled = [...ids].sort(() => Math.random() - 0.5)
    expect(shuffled.sort().map((id) => id.slice(0, 8))).toEqual(ids.map((id) => id.slice(0, 8)))
    // Far apart in time, and at the ends of the clock.
    expect(newLeadId(0) < newLeadId(1) && newLeadId(1) < newLeadId(Date.UTC(2026, 0, 1)) && newLeadId(Date.UTC(2026, 0, 1)) < newLeadId(2 ** 48 - 1)).toBe(true)
  })
})
