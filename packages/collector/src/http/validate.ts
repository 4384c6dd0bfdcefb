// zod failures become ordinary coded 400s naming the first offending fields (never internals).

import type { z } from 'zod'
import { clError, type ErrorName } from '../errors.js'
import { didYouMean } from '../suggest.js'

const MAX_ISSUES = 3

/** The first few offending fields, one "path: message" each (a CSV row or a body is fixed in one go). */
export function describeIssue(error: z.ZodError): string {
  const parts = new Map<string, string>()
  for (const issue of error.issues) {
    const { path, message } = innermost(issue)
    const at = path.map(String).join('.').slice(0, 100)
    if (!parts.has(at)) parts.set(at, at ? `${at}: ${message}` : message)
    if (parts.size === MAX_ISSUES) break
  }
  return parts.size > 0 ? [...parts.values()].join('; ') : 'invalid'
}

type Issue = z.core.$ZodIssue

/**
 * The issue as a user should read it. An enum's gets the near allowed value. A union's own message
 * is only "Invalid input": when one alternative took the value's type (a numeric string that is
 * not a number, say), its complaint is the useful one; otherwise the types expected are named.
 */
function innermost(issue: Issue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'invalid_value') {
    // A mistyped enum value ("linaer"): name the near one. Only an allowed value is echoed, never the input.
    const near = typeof issue.input === 'string' ? didYouMean(issue.input.slice(0, 100), issue.values.filter((v): v is string => typeof v === 'string')) : ''
    return near ? { path: issue.path, message: `${issue.message}; ${near}` } : issue
  }
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue
  const typed = issue.errors.filter((b) => b.length > 0 && b.every((i) => i.code !== 'invalid_type'))
  if (typed.length === 1) {
    const inner = innermost(typed[0][0])
    return { path: [...issue.path, ...inner.path], message: inner.message }
  }
  const expected = [...new Set(issue.errors.flatMap((b) => b.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [i.expected] : []))))]
  return { path: issue.path, message: expected.length > 0 ? `expected ${expected.join(' or ')}` : issue.message }
}

export function parseOr<S extends z.ZodType>(schema: S, value: unknown, name: ErrorName = 'VALIDATION'): z.output<S> {
  // The input in the issues lets a mistyped enum value get a suggestion (describeIssue).
  const result = schema.safeParse(value, { reportInput: true })
  if (!result.success) throw clError(name, describeIssue(result.error))
  return result.data
}
