// Several collector processes writing to one PostgreSQL: the lock order they share, and what is
// done when PostgreSQL still breaks a cycle. Each process commits many requests in one
// transaction, so two processes' transactions can take the same rows in opposite orders. Rows are
// taken in key order within a statement (events, leads, deals), identify calls take an advisory
// lock per identity key and deal writes one per deal ID, in one sorted sweep before any row, and a transaction that PostgreSQL
// still picks as a deadlock victim (40P01) or a serialization failure (40001) is rolled back and
// run again whole: its requests are answered only by the attempt that commits.

import { createHash } from 'node:crypto'
import { nextRetry } from '../../integrations/backoff.js'

const RETRYABLE = new Set(['40P01', '40001'])

/** Whole-transaction attempts before the requests get the error. */
export const MAX_BATCH_ATTEMPTS = 8

/** A deadlock or serialization failure, on the error or its cause. */
export function isRetryable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && RETRYABLE.has(e.code)) return true
  }
  return false
}

/** Thrown out of a batch attempt so that the whole transaction is rolled back and run again. */
export class RetryBatch extends Error {
  constructor(readonly reason: unknown) {
    super('transaction picked as a deadlock or serialization victim', { cause: reason })
  }
}

/** The wait before attempt `attempts + 1`: jittered, 5 ms doubling to at most 200 ms. */
export function batchRetryDelayMs(attempts: number, random: () => number = Math.random): number {
  const d = nextRetry({ attempts, queuedAt: 0, now: 0 }, random, { baseMs: 5, capMs: 200, giveUpAfterMs: Number.MAX_SAFE_INTEGER })
  return d.retry ? d.at : 0
}

/**
 * Advisory lock keys (bigint, as decimal strings) for the given strings, distinct and ascending:
 * taken in one statement in this order, no two transactions wait for each other's keys.
 */
export function advisoryKeys(names: Iterable<string>): string[] {
  const keys = new Set<bigint>()
  for (const name of names) keys.add(createHash('sha256').update(name).digest().readBigInt64BE(0))
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String)
}

/** Order of rows by their key, the same in every process (a plain code-unit comparison, no locale). */
export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
