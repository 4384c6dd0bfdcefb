// When an outbox row (a CRM write-back, a conversion) is tried again after a passing failure:
// exponential backoff with full jitter, never sooner than the platform's Retry-After, and no
// attempt later than 7 days after the row was queued (the row then fails with its last reason).

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

export interface BackoffPolicy {
  /** Upper bound of the first wait. */
  baseMs: number
  /** Upper bound of any wait the backoff itself picks (a Retry-After may ask for more). */
  capMs: number
  /** No attempt is made later than this after the row was queued. */
  giveUpAfterMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: MINUTE, capMs: 6 * HOUR, giveUpAfterMs: 7 * DAY }

export interface RetryInput {
  /** Attempts made so far, the failed one included (1 after the first failure). */
  attempts: number
  /** When the row was queued, epoch ms. */
  queuedAt: number
  /** Now, epoch ms. */
  now: number
  /** The platform's Retry-After, in ms from now (see parseRetryAfter). */
  retryAfterMs?: number | null
}

export type RetryDecision = { retry: true; at: number } | { retry: false }

/**
 * The next attempt's time, or give up. `random` returns values in [0, 1) (Math.random; tests pass
 * a fixed one). With full jitter the wait is uniform in [0, min(cap, base · 2^(attempts−1))), which
 * spreads retries of many rows that failed together.
 */
export function nextRetry(input: RetryInput, random: () => number = Math.random, policy: BackoffPolicy = DEFAULT_BACKOFF): RetryDecision {
  const exponent = Math.max(0, Math.floor(input.attempts) - 1)
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent)
  let wait = Math.floor(random() * ceiling)
  if (input.retryAfterMs != null && input.retryAfterMs > wait) wait = Math.ceil(input.retryAfterMs)
  const at = input.now + wait
  return at > input.queuedAt + policy.giveUpAfterMs ? { retry: false } : { retry: true, at }
}

/**
 * A Retry-After header → ms from `now`: delay-seconds ("120") or an HTTP date (a past date is 0).
 * null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (value == null) return null
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  if (!/[a-z]/i.test(v)) return null
  const t = Date.parse(v)
  return Number.isFinite(t) ? Math.max(0, t - now) : null
}
