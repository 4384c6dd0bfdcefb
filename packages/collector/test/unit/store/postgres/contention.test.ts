// The lock-order and retry rules several collectors share on one PostgreSQL (pure parts).
import { describe, expect, it } from 'vitest'
import { advisoryKeys, batchRetryDelayMs, byKey, isRetryable, RetryBatch } from '../../../../src/store/postgres/contention.js'

describe('advisoryKeys', () => {
  it('gives the same distinct keys in ascending order whatever order the names come in', () => {
    const names = Array.from({ length: 50 }, (_, i) => `identity\u0000site\u0000email\u0000h${i}`)
    const a = advisoryKeys(names)
    const b = advisoryKeys([...names].reverse().concat(names.slice(0, 10)))
    expect(b).toEqual(a)
    expect(a.length).toBe(50)
    for (let i = 1; i < a.length; i++) expect(BigInt(a[i - 1]) < BigInt(a[i])).toBe(true)
    for (const k of a) expect(BigInt(k) >= -(2n ** 63n) && BigInt(k) < 2n ** 63n).toBe(true)
  })
})

describe('isRetryable', () => {
  it('knows deadlocks and serialization failures, on the error or its cause, and nothing else', () => {
    expect(isRetryable({ code: '40P01' })).toBe(true)
    expect(isRetryable({ code: '40001' })).toBe(true)
    expect(isRetryable(new Error('x', { cause: { code: '40P01' } }))).toBe(true)
    expect(isRetryable(new RetryBatch({ code: '40001' }))).toBe(true)
    for (const e of [{ code: '23505' }, { code: '25P02' }, new Error('deadlock detected'), null, undefined, 'x']) expect(isRetryable(e)).toBe(false)
  })
})

describe('batchRetryDelayMs', () => {
  it('waits up to 5 ms after the first failure, doubling to at most 200 ms', () => {
    expect(batchRetryDelayMs(1, () => 0)).toBe(0)
    expect(batchRetryDelayMs(1, () => 0.999)).toBe(4)
    expect(batchRetryDelayMs(3, () => 0.999)).toBe(19)
    expect(batchRetryDelayMs(20, () => 0.999)).toBe(199)
  })
})

describe('byKey', () => {
  it('orders by code units, not by locale', () => {
    expect(['b', 'B', 'a', 'A_', 'A'].sort(byKey)).toEqual(['A', 'A_', 'B', 'a', 'b'])
  })
})
