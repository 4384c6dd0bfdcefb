// zod failures become ordinary coded 400s naming the first offending field (never internals).

import type { z } from 'zod'
import { clError, type ErrorName } from '../errors.js'

export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid'
  const path = issue.path.map(String).join('.').slice(0, 100)
  return path ? `${path}: ${issue.message}` : issue.message
}

export function parseOr<S extends z.ZodType>(schema: S, value: unknown, name: ErrorName = 'VALIDATION'): z.output<S> {
  const result = schema.safeParse(value)
  if (!result.success) throw clError(name, describeIssue(result.error))
  return result.data
}
