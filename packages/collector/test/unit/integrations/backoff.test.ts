import { describe, expect, it } from 'vitest'
import { DAY, DEFAULT_BACKOFF, HOUR, MINUTE, nextRetry, parseRetryAfter } from '../../../src/integrations/backoff.js'

const T = Date.UTC(2026, 0, 1)

describe('nextRetry', () => {
  it('waits a uniformly random time below an exponentially growing, capped ceiling (full jitter)', () => {
    const at = (attempts: number, r: number) => {
      const d = nextRetry({ attempts, queuedAt: T, now: T }, () => r)
      if (!d.retry) throw new Error('gave up')
      return d.at - T
    }
    expect(at(1, 0)).toBe(0)
    expect(at(1, 0.5)).toBe(MINUTE / 2)
    expect(at(2, 0.5)).toBe(MINUTE)
    expect(at(3, 0.999_999)).toBe(Math.floor(4 * MINUTE * 0.999_999))
    // Doubling stops at the cap, also for attempt counts whose power of two is huge.
    expect(at(20, 0.5)).toBe(DEFAULT_BACKOFF.capMs / 2)
    expect(at(5000, 0.5)).toBe(DEFAULT_BACKOFF.capMs / 2)
  })

  it('never retries sooner than the Retry-After, even above the cap', () => {
    const d = nextRetry({ attempts: 1, queuedAt: T, now: T, retryAfterMs: 90_000 }, () => 0.1)
    expect(d).toEqual({ retry: true, at: T + 90_000 })
    const longer = nextRetry({ attempts: 1, queuedAt: T, now: T, retryAfterMs: 10 * HOUR }, () => 0.1)
    expect(longer).toEqual({ retry: true, at: T + 10 * HOUR })
    // A jittered wait already longer than the Retry-After is kept.
    expect(nextRetry({ attempts: 4, queuedAt: T, now: T, retryAfterMs: 1000 }, () => 0.5)).toEqual({ retry: true, at: T + 4 * MINUTE })
  })

  it('gives up when the next attempt would fall after 7 days from queueing', () => {
    const now = T + 7 * DAY - HOUR
    expect(nextRetry({ attempts: 30, queuedAt: T, now }, () => 0.1)).toEqual({ retry: true, at: now + Math.floor(0.1 * DEFAULT_BACKOFF.capMs) })
    expect(nextRetry({ attempts: 30, queuedAt: T, now }, () => 0.5)).toEqual({ retry: false })
    expect(nextRetry({ attempts: 1, queuedAt: T, now: T, retryAfterMs: 8 * DAY }, () => 0)).toEqual({ retry: false })
    expect(nextRetry({ attempts: 1, queuedAt: T, now: T + 7 * DAY }, () => 0)).toEqual({ retry: true, at: T + 7 * DAY })
    expect(nextRetry({ attempts: 1, queuedAt: T, now: T + 7 * DAY + 1 }, () => 0)).toEqual({ retry: false })
  })
})

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', T)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', T)).toBe(0)
    expect(parseRetryAfter(new Date(T + 30_000).toUTCString(), T)).toBe(30_000)
    // A date already past means now.
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', T)).toBe(0)
  })

  it('is null when absent or unreadable', () => {
    expect(parseRetryAfter(null, T)).toBeNull()
    expect(parseRetryAfter(undefined, T)).toBeNull()
    for (const v of ['', 'soon', '-5', '1.5', '2026-01-01']) expect(parseRetryAfter(v, T), v).toBeNull()
  })
})
