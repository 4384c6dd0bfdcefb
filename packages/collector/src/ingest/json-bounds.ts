// Bounds for free-form JSON (event props, traits): attacker-controlled, so depth, key count and
// string length are capped and strings cleaned, returning a fresh object (no shared prototypes).

import { cleanText } from './text.js'

export const JSON_BOUNDS = { maxDepth: 5, maxKeys: 200, maxString: 2000, maxKey: 100 } as const

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** A bounded, cleaned copy of `value`, or null when it breaks a bound. */
export function boundedObject(value: unknown): Record<string, Json> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const budget = { keys: JSON_BOUNDS.maxKeys }
  const out = copy(value, 1, budget)
  return out === undefined ? null : (out as Record<string, Json>)
}

function copy(value: unknown, depth: number, budget: { keys: number }): Json | undefined {
  if (value === null || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'string') return value.length > JSON_BOUNDS.maxString ? undefined : cleanText(value)
  if (typeof value !== 'object' || depth > JSON_BOUNDS.maxDepth) return undefined
  if (Array.isArray(value)) {
    budget.keys -= value.length
    if (budget.keys < 0) return undefined
    const arr: Json[] = []
    for (const item of value) {
      const c = copy(item, depth + 1, budget)
      if (c === undefined) return undefined
      arr.push(c)
    }
    return arr
  }
  // Object.create(null): a "__proto__" key from JSON.parse stays a plain own property.
  const obj: { [key: string]: Json } = Object.create(null)
  for (const [key, item] of Object.entries(value)) {
    if (--budget.keys < 0 || key.length > JSON_BOUNDS.maxKey) return undefined
    const c = copy(item, depth + 1, budget)
    if (c === undefined) return undefined
    obj[cleanText(key)] = c
  }
  return obj
}
