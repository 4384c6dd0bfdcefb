// Every error a client can see, defined once with a stable code. docs/errors.md documents
// each code; test/unit/errors.test.ts checks that codes are unique and documented.

import { AttributionError, type AttributionErrorReason } from './attribution/errors.js'

export interface ErrorDef {
  code: `CL_ERR_${string}`
  status: number
  message: string
}

function def(code: ErrorDef['code'], status: number, message: string): ErrorDef {
  return { code, status, message }
}

export const ERRORS = {
  BAD_JSON: def('CL_ERR_BAD_JSON', 400, 'Body is not valid JSON'),
  VALIDATION: def('CL_ERR_VALIDATION', 400, 'Request does not match the schema'),
  UNSUPPORTED_MEDIA_TYPE: def('CL_ERR_UNSUPPORTED_MEDIA_TYPE', 415, 'Content-Type must be application/json or text/plain'),
  BODY_TOO_LARGE: def('CL_ERR_BODY_TOO_LARGE', 413, 'Body exceeds the size limit'),
  UNKNOWN_SITE: def('CL_ERR_UNKNOWN_SITE', 401, 'Unknown site key'),
  MISSING_SECRET_KEY: def('CL_ERR_MISSING_SECRET_KEY', 401, 'Authorization: Bearer sk_… is required'),
  BAD_SECRET_KEY: def('CL_ERR_BAD_SECRET_KEY', 401, 'Secret key is not valid'),
  ORIGIN_NOT_ALLOWED: def('CL_ERR_ORIGIN_NOT_ALLOWED', 403, 'Origin is not allowed for this site'),
  NOT_FOUND: def('CL_ERR_NOT_FOUND', 404, 'Not found'),
  RATE_LIMITED: def('CL_ERR_RATE_LIMITED', 429, 'Too many requests'),
  CROSS_ORIGIN: def('CL_ERR_CROSS_ORIGIN', 403, 'Cross-origin request refused'),
  NO_SESSION: def('CL_ERR_NO_SESSION', 401, 'Not signed in to the dashboard'),
  DASHBOARD_NOT_BUILT: def('CL_ERR_DASHBOARD_NOT_BUILT', 503, 'Dashboard assets are not built; run the collector build'),
  INTERNAL: def('CL_ERR_INTERNAL', 500, 'Internal error'),
  // Whole-request problems of the ingestion routes.
  TOO_MANY_EVENTS: def('CL_ERR_TOO_MANY_EVENTS', 413, 'Too many events in one batch'),
  EMPTY_BODY: def('CL_ERR_EMPTY_BODY', 400, 'Body is empty'),
  UNSUPPORTED_ENCODING: def('CL_ERR_UNSUPPORTED_ENCODING', 415, 'Content-Encoding must be gzip or identity'),
  BAD_ENCODING: def('CL_ERR_BAD_ENCODING', 400, 'Body is not valid gzip'),
  // Segment-compatible ingestion (/segment/v1/…).
  MISSING_WRITE_KEY: def('CL_ERR_MISSING_WRITE_KEY', 401, 'A write key (site key) is required: HTTP Basic user name or writeKey field'),
  SEGMENT_NO_IDENTITY: def('CL_ERR_SEGMENT_NO_IDENTITY', 400, 'A message needs an anonymousId or a userId'),
  // Per-event rejection codes, reported as { index, code } inside a 200 collect/import response.
  INVALID_EVENT: def('CL_ERR_INVALID_EVENT', 400, 'Event does not match the schema'),
  EVENT_TOO_LARGE: def('CL_ERR_EVENT_TOO_LARGE', 413, 'Event exceeds 32 KB'),
  BAD_VISITOR_ID: def('CL_ERR_BAD_VISITOR_ID', 400, 'Visitor ID must be a 21-character nanoid'),
  PROPS_TOO_COMPLEX: def('CL_ERR_PROPS_TOO_COMPLEX', 400, 'props/traits are nested too deeply or have too many keys'),
  SUPPRESSED: def('CL_ERR_SUPPRESSED', 409, 'This person was erased; their data is not accepted'),
  // Identity, leads, privacy.
  IDENTIFY_NO_KEY: def('CL_ERR_IDENTIFY_NO_KEY', 400, 'One of email, phone or externalId is required'),
  BAD_EMAIL: def('CL_ERR_BAD_EMAIL', 400, 'Email address is not valid'),
  BAD_PHONE: def('CL_ERR_BAD_PHONE', 400, 'Phone number is not valid (use E.164, e.g. +14155550123)'),
  LEAD_NOT_FOUND: def('CL_ERR_LEAD_NOT_FOUND', 404, 'Lead not found'),
  ACCOUNT_NOT_FOUND: def('CL_ERR_ACCOUNT_NOT_FOUND', 404, 'Account not found'),
  ACCOUNT_CONFLICT: def('CL_ERR_ACCOUNT_CONFLICT', 409, "A person named is in another company's account"),
  PRIVACY_NO_SELECTOR: def('CL_ERR_PRIVACY_NO_SELECTOR', 400, 'One of email, phone, externalId or visitorId is required'),
  // Sites (CLI and admin).
  SITE_EXISTS: def('CL_ERR_SITE_EXISTS', 409, 'A site with this name already exists'),
  BAD_ORIGIN: def('CL_ERR_BAD_ORIGIN', 400, 'Origin must be a URL such as https://example.com'),
  SITE_NOT_FOUND: def('CL_ERR_SITE_NOT_FOUND', 404, 'No site with this name'),
  BAD_CONFIG: def('CL_ERR_BAD_CONFIG', 400, 'Invalid configuration'),
  SHUTTING_DOWN: def('CL_ERR_SHUTTING_DOWN', 503, 'The collector is shutting down; retry'),
  // Malformed HTTP, answered before a route runs.
  BAD_REQUEST: def('CL_ERR_BAD_REQUEST', 400, 'Malformed HTTP request'),
  URL_TOO_LONG: def('CL_ERR_URL_TOO_LONG', 414, 'URL or path parameter too long'),
  HEADERS_TOO_LARGE: def('CL_ERR_HEADERS_TOO_LARGE', 431, 'Request headers too large'),
  REQUEST_TIMEOUT: def('CL_ERR_REQUEST_TIMEOUT', 408, 'Request took too long to arrive'),
  // Deals, spend, currency (closing the loop).
  UNKNOWN_STAGE: def('CL_ERR_UNKNOWN_STAGE', 400, 'Stage is neither a Closeloop stage, a built-in alias nor in the site stageMapping'),
  DEAL_NO_PERSON: def('CL_ERR_DEAL_NO_PERSON', 400, 'One of leadId, email or externalId is required'),
  BAD_CURRENCY: def('CL_ERR_BAD_CURRENCY', 400, 'Currency must be an ISO 4217 code such as EUR'),
  NO_FX_RATE: def('CL_ERR_NO_FX_RATE', 422, 'No exchange rate to the site currency; import one with POST /v1/rates or closeloop rates import'),
  BAD_DATE: def('CL_ERR_BAD_DATE', 400, 'Date must be a real UTC day YYYY-MM-DD'),
  BAD_CSV: def('CL_ERR_BAD_CSV', 400, 'CSV is malformed or lacks a required column'),
  REPORT_TOO_COMPLEX: def('CL_ERR_REPORT_TOO_COMPLEX', 422, 'The report is too complex to compute in its time budget; use a coarser "by" or a narrower window'),
  // CRM connectors and conversion destinations.
  BAD_SIGNATURE: def('CL_ERR_BAD_SIGNATURE', 401, 'Webhook signature or credentials are missing or not valid'),
  UNKNOWN_CRM_KIND: def('CL_ERR_UNKNOWN_CRM_KIND', 400, 'Unknown CRM kind'),
  CRM_CONNECTION_NOT_FOUND: def('CL_ERR_CRM_CONNECTION_NOT_FOUND', 404, 'No CRM connection with this ID (of this kind)'),
  UNKNOWN_DESTINATION_KIND: def('CL_ERR_UNKNOWN_DESTINATION_KIND', 400, 'Unknown destination kind'),
  BAD_SEND: def('CL_ERR_BAD_SEND', 400, 'A --send mapping is not STAGE=NAME[:VALUE] with a Closeloop stage, a name and a value of at least 0'),
  DESTINATION_NOT_FOUND: def('CL_ERR_DESTINATION_NOT_FOUND', 404, 'No destination with this ID'),
  BAD_FEED_CREDENTIALS: def('CL_ERR_BAD_FEED_CREDENTIALS', 401, 'HTTP Basic credentials of this feed are missing or not valid'),
  NOT_A_FEED: def('CL_ERR_NOT_A_FEED', 404, 'This destination is not a feed'),
  // The command line (closeloop …): printed as one line on stderr, exit code 1.
  UNKNOWN_COMMAND: def('CL_ERR_UNKNOWN_COMMAND', 400, 'Unknown command'),
  USAGE: def('CL_ERR_USAGE', 400, 'Unknown option, missing option or unexpected argument'),
  PORT_IN_USE: def('CL_ERR_PORT_IN_USE', 409, 'The port is already in use'),
  NO_PERMISSION: def('CL_ERR_NO_PERMISSION', 403, 'Permission denied'),
  FILE_NOT_FOUND: def('CL_ERR_FILE_NOT_FOUND', 404, 'No such file or directory'),
  NO_STORE: def('CL_ERR_NO_STORE', 404, 'The data folder holds no Closeloop store'),
  DATABASE_UNREACHABLE: def('CL_ERR_DATABASE_UNREACHABLE', 503, 'Cannot connect to the database'),
  BACKUP_FAILED: def('CL_ERR_BACKUP_FAILED', 500, 'The backup could not be written'),
  BAD_BACKUP: def('CL_ERR_BAD_BACKUP', 400, 'Not a complete Closeloop backup'),
  STORE_NOT_EMPTY: def('CL_ERR_STORE_NOT_EMPTY', 409, 'The data folder already holds a store'),
} as const satisfies Record<string, ErrorDef>

export type ErrorName = keyof typeof ERRORS

export class ClError extends Error {
  readonly code: string
  readonly status: number
  readonly details?: unknown
  /** What the user can do about it: the CLI prints it as a second line `hint: …`. */
  hint?: string
  constructor(def: ErrorDef, message?: string, details?: unknown) {
    super(message ?? def.message)
    this.code = def.code
    this.status = def.status
    this.details = details
  }
}

export function clError(name: ErrorName, message?: string, details?: unknown): ClError {
  return new ClError(ERRORS[name], message, details)
}

/** The error with a hint for the CLI's second line (an empty hint prints none). */
export function withHint<T extends ClError>(err: T, hint: string): T {
  err.hint = hint
  return err
}

// Fastify's own errors, by their stable codes (never by message text).
const FASTIFY_CODES: Record<string, ErrorName> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'VALIDATION',
  FST_ERR_MAX_PARAM_LENGTH: 'URL_TOO_LONG',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION',
}

const BY_STATUS: Record<number, ErrorName> = {
  400: 'VALIDATION',
  404: 'NOT_FOUND',
  413: 'BODY_TOO_LARGE',
  414: 'URL_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SHUTTING_DOWN',
}

// The attribution engine's own errors, by reason; the engine's message is kept.
const ATTRIBUTION_REASONS: Record<AttributionErrorReason, ErrorName> = {
  invalid_option: 'VALIDATION',
  too_complex: 'REPORT_TOO_COMPLEX',
  internal: 'INTERNAL',
}

/** A coded error as a ClError (ours, or the attribution engine's mapped to its code); else undefined. */
export function asClError(err: unknown): ClError | undefined {
  if (err instanceof ClError) return err
  if (err instanceof AttributionError) return clError(ATTRIBUTION_REASONS[err.reason], err.message)
  return undefined
}

/** Any thrown value as a client-safe ClError; unknown failures become CL_ERR_INTERNAL. */
export function toClError(err: unknown): ClError {
  const coded = asClError(err)
  if (coded) return coded
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; statusCode?: unknown; validation?: unknown }
    if (typeof e.code === 'string' && e.code in FASTIFY_CODES) return clError(FASTIFY_CODES[e.code])
    if (e.validation !== undefined) return clError('VALIDATION')
    if (typeof e.statusCode === 'number' && e.statusCode in BY_STATUS) return clError(BY_STATUS[e.statusCode])
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return clError('VALIDATION')
  }
  return clError('INTERNAL')
}

export function errorBody(err: ClError): { error: { code: string; message: string } } {
  return { error: { code: err.code, message: err.message } }
}
