// Request bodies are JSON whatever their declared type (application/json, or text/plain to avoid
// a CORS preflight); an empty or broken body gets its own code.

import { clError } from '../errors.js'

export function parseJson(body: string): unknown {
  if (body.trim() === '') throw clError('EMPTY_BODY')
  try {
    return JSON.parse(body)
  } catch {
    throw clError('BAD_JSON')
  }
}
