// What the deal and spend batch pipelines share: a batch item is numbered by its caller (request
// index, CSV line), and every item that fails is kept as a coded rejection under that number.

import { ClError, clError, toClError, type ErrorName } from '../errors.js'

/** One raw item of a batch; `at` is the caller's number for it (request index, CSV line). */
export interface BatchItem {
  at: number
  raw: unknown
}

export interface BatchRejection {
  at: number
  error: ClError
  /** What was thrown when it was not a ClError (a store failure), so a caller can rethrow it. */
  cause?: unknown
}

export function rejection(at: number, thrown: unknown): BatchRejection {
  return thrown instanceof ClError ? { at, error: thrown } : { at, error: toClError(thrown), cause: thrown }
}

export function codedRejection(at: number, name: ErrorName): BatchRejection {
  return { at, error: clError(name) }
}

/** Rejections as the API and the CSV import report them. */
export function describeRejection(r: BatchRejection): { code: string; message: string } {
  return { code: r.error.code, message: r.error.message }
}

export function byPosition(a: BatchRejection, b: BatchRejection): number {
  return a.at - b.at
}

/** Consecutive slices of at most `size` items (a whole batch in one slice when size is Infinity). */
export function* slices<T>(items: readonly T[], size: number): Generator<T[]> {
  if (!(size >= 1)) throw new RangeError(`slice size must be at least 1, got ${size}`)
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}
