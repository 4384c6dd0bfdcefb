// What the CLI prints when a command fails: one line `closeloop <command>: <message> (CL_ERR_…)`
// and, where it helps, `hint: …`. Expected failures of the operating system (port in use, missing
// file, no permission), of the database connection and of the command line get their own codes;
// anything else is CL_ERR_INTERNAL, whose stack trace is shown only with --debug.

import { asClError, clError, withHint, type ClError } from '../errors.js'
import { didYouMean } from '../suggest.js'

export interface CliFailure {
  code: string
  message: string
  hint?: string
}

interface SystemError {
  code?: unknown
  syscall?: unknown
  path?: unknown
  address?: unknown
  port?: unknown
  message?: unknown
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}

/** Node's parseArgs messages, shortened to their first sentence. */
function parseArgsMessage(code: string, message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message)
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) return `unknown option ${unknown[1]}`
  const missing = /^Option '(-\S+)(?: <value>)?' argument missing/.exec(message)
  if (missing) return `option ${missing[1].replace(/^-\w, /, '')} needs a value`
  const sentence = firstLine(message).replace(/\. .*$/, '').replace(/\.$/, '')
  return sentence.charAt(0).toLowerCase() + sentence.slice(1)
}

function systemFailure(e: SystemError): ClError | null {
  const code = typeof e.code === 'string' ? e.code : ''
  const path = typeof e.path === 'string' ? e.path : null
  if (code === 'EADDRINUSE') {
    return withHint(clError('PORT_IN_USE', `port ${String(e.port)} on ${String(e.address)} is already in use`),
      'stop the other process, or choose another port with --port N (--port 0 takes any free port)')
  }
  if (code === 'EACCES' && e.syscall === 'listen') {
    return withHint(clError('NO_PERMISSION', `no permission to listen on port ${String(e.port)}`), 'ports below 1024 need privileges; use a higher --port, e.g. 8787')
  }
  if (code === 'EADDRNOTAVAIL' || (code === 'ENOTFOUND' && e.syscall === 'listen')) {
    return withHint(clError('BAD_CONFIG', `cannot listen on ${String(e.address)}: no such local address`), 'use --host 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)')
  }
  if ((code === 'EACCES' || code === 'EPERM') && path) return clError('NO_PERMISSION', `no permission to access ${path}`)
  if (code === 'ENOENT' && path) return clError('FILE_NOT_FOUND', `no such file or folder: ${path}`)
  if (code === 'ENOTDIR' && path) return clError('FILE_NOT_FOUND', `not a folder: ${path}`)
  if (code === 'EISDIR' && path) return clError('FILE_NOT_FOUND', `${path} is a folder, not a file`)
  // PostgreSQL: refused or unknown host, unknown database (3D000), rejected credentials (28P01, 28000).
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', '3D000', '28P01', '28000'].includes(code)) {
    const message = typeof e.message === 'string' ? firstLine(e.message) : code
    return withHint(clError('DATABASE_UNREACHABLE', `cannot connect to the database: ${message}`), 'check --database-url (or CLOSELOOP_DATABASE_URL) and that the server is running')
  }
  return null
}

/** Any thrown value as the code, message and hint the CLI prints. */
export function describeFailure(err: unknown): CliFailure & { internal: boolean } {
  const coded = asClError(err)
  if (coded) return { code: coded.code, message: coded.message, hint: coded.hint, internal: coded.code === 'CL_ERR_INTERNAL' }
  if (typeof err === 'object' && err !== null) {
    const e = err as SystemError
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS') && typeof e.message === 'string') {
      return { code: 'CL_ERR_USAGE', message: parseArgsMessage(e.code, e.message), internal: false }
    }
    const known = systemFailure(e)
    if (known) return { code: known.code, message: known.message, hint: known.hint, internal: false }
  }
  const message = err instanceof Error ? firstLine(err.message) : firstLine(String(err))
  return { code: 'CL_ERR_INTERNAL', message: `unexpected error: ${message || 'no message'}`, internal: true }
}

/** The lines for stderr; the stack trace of an unexpected error only when debugging. */
export function formatFailure(command: string | null, err: unknown, options: { debug: boolean; usage?: string; flags?: string[] }): string {
  const f = describeFailure(err)
  let hint = f.hint
  if (f.internal) hint = options.debug ? undefined : 'rerun with --debug (or CLOSELOOP_DEBUG=1) to see the stack trace'
  else if (f.code === 'CL_ERR_USAGE') {
    const typo = /^unknown option (--\S+)/.exec(f.message)
    const parts = [hint, typo ? didYouMean(typo[1], options.flags ?? []) : '', options.usage ? `usage: closeloop ${options.usage}` : '']
    hint = parts.filter(Boolean).join(' ') || undefined
  }
  const lines = [`closeloop${command ? ' ' + command : ''}: ${f.message} (${f.code})`]
  if (hint) lines.push(`hint: ${hint}`)
  if (f.internal && options.debug && err instanceof Error && err.stack) lines.push(err.stack)
  return lines.join('\n') + '\n'
}
