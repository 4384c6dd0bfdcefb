// The interface every CRM connector implements (one file per CRM, listed in crm/registry.ts):
// options, inbound webhooks (verify, then parse into inbox items), pulling changed deals, and
// writing attribution back. Connectors speak in the CRM-neutral CrmDeal; crm/deal-mapping.ts
// turns that into the deal Closeloop stores.

import type { ErrorName } from '../../errors.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'

export const CRM_KINDS = ['hubspot', 'salesforce', 'pipedrive'] as const
export type CrmKind = (typeof CRM_KINDS)[number]

/** A site's link to one CRM account, with its options parsed (secrets decrypted). */
export interface CrmConnection<O> {
  id: string
  siteId: string
  kind: CrmKind
  options: O
  /** Attribution fields are written back to the CRM (`--write-back`). */
  writeBack: boolean
}

/** An inbound webhook as received, before any parsing: signatures cover the exact bytes. */
export interface InboundRequest {
  method: string
  /**
   * The full URL as the CRM called it (scheme, host, path, query): HubSpot signs it. Behind a
   * proxy the inbound route builds it from the connection's or the collector's public URL.
   */
  url: string
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>
  rawBody: Buffer
  /** The URL's last segment after the connection ID, for a connector with `pathTokenOption`. */
  pathToken?: string
}

/** `error` names the coded failure, e.g. BAD_SIGNATURE (401): nothing of the request is kept. */
export type VerifyResult = { ok: true } | { ok: false; error: ErrorName; message?: string }

/** A person on a CRM deal, by what Closeloop can link on. */
export interface CrmContact {
  /** The CRM's ID of the contact/person. */
  id: string
  /** As the CRM holds it (normalised later, like any deal e-mail). */
  email: string | null
  /** The contact's `cl_visitor_id` property: the visitor the form was sent from. */
  visitorId: string | null
  /** The contact's company name, when the CRM holds one: the account of the deal's people. */
  company?: string | null
}

/** A deal as any CRM has it, in the shape every connector produces. */
export interface CrmDeal {
  /** The CRM's deal/opportunity ID (Closeloop's dealId). */
  id: string
  stage: {
    /** The CRM's own stage ID or API name. */
    id: string
    /** The name users see, which the site's stage mapping is written in. */
    label: string
    /** The CRM's closed-won/closed-lost flag; null while open or when the CRM sent none. */
    closed: 'won' | 'lost' | null
  }
  /** null when the deal has no amount. */
  amount: number | null
  /** ISO 4217 code; null means the site currency. */
  currency: string | null
  /** Expected or actual close date, epoch ms; null when unset. */
  closeDate: number | null
  /** Last change in the CRM, epoch ms. */
  modifiedAt: number
  contacts: CrmContact[]
}

/**
 * One change a webhook reports, kept in the durable inbox before the inbound request is answered.
 * Most CRMs send references only (the worker reads the deal with readDeal); a CRM that sends the
 * whole record (Salesforce outbound messages) fills `deal`.
 */
export interface CrmInboxItem {
  object: 'deal' | 'contact'
  /** The CRM's ID of the deal or contact. */
  id: string
  change: 'created' | 'changed' | 'deleted'
  /** When the CRM says the change happened, epoch ms. */
  occurredAt: number
  /** The CRM's ID of the notification, when it has one: a resent webhook is not kept twice. */
  eventId: string | null
  deal?: CrmDeal
}

/**
 * A CRM API call that failed. `retry`: a passing failure (429, 5xx, network) worth another try,
 * not sooner than `retryAfterMs` when the CRM sent a Retry-After; otherwise final.
 */
export class CrmCallError extends Error {
  constructor(message: string, readonly retry: boolean, readonly retryAfterMs: number | null = null) {
    super(message)
    this.name = 'CrmCallError'
  }
}

/** A page of deals changed after a cursor. */
export interface CrmDealPage {
  deals: CrmDeal[]
  /** Where the next fetch resumes (opaque to Closeloop; null = from the beginning). */
  cursor: string | null
  /** More changed deals wait after `cursor`. */
  more: boolean
}

type TouchField = 'source' | 'medium' | 'campaign' | 'channel'

/** Contact/person fields written back after an identify (null = clear or leave empty). */
export type LeadWriteBackFields = { closeloop_lead_id: string } & {
  [F in `closeloop_${'first' | 'last'}_${TouchField}`]: string | null
}

/** Deal fields written back after a deal changes: the touch with most credit under the site's default model. */
export interface DealWriteBackFields {
  closeloop_channel: string | null
  closeloop_campaign: string | null
}

/** One write-back, as stored in the CRM outbox. Writes are idempotent: a resend sets the same values. */
export type CrmWriteBack =
  | {
    object: 'contact'
    /** The CRM's contact ID when known, else the contact is found by `email`. */
    contactId: string | null
    email: string | null
    fields: LeadWriteBackFields
  }
  | { object: 'deal'; dealId: string; fields: DealWriteBackFields }

/** What the CRM is answered once an inbound request's items are durably in the inbox. */
export interface InboundReply {
  status: number
  contentType: string
  body: string
}

/**
 * One CRM. `O` is its parsed options; methods take the connection they act for. Inbound calls are
 * synchronous and do no I/O (the request is answered at once); outbound calls go through `env`.
 */
export interface CrmAdapter<O = unknown> {
  readonly kind: CrmKind
  /** Option names whose values are secrets: stored encrypted, never printed back. */
  readonly secretOptions: readonly string[]
  /**
   * For a CRM that cannot sign its webhooks (Salesforce outbound messages): the option holding a
   * random token the inbound URL ends with, generated at `crm add` when not given; verify checks it.
   */
  readonly pathTokenOption?: string
  /** Validates `crm add` options; throws CL_ERR_BAD_CONFIG naming the option. */
  parseOptions(raw: RawOptions): O
  /** Signature / credentials / account check of an inbound webhook. */
  verify(request: InboundRequest, connection: CrmConnection<O>, now: number): VerifyResult
  /** The changes a verified webhook body reports; throws CL_ERR_VALIDATION for a body it cannot read. */
  parse(rawBody: Buffer, connection: CrmConnection<O>): CrmInboxItem[]
  /** The answer after the items are stored; absent: 200 `{"ok":true}` (Salesforce needs a SOAP Ack). */
  inboundReply?(items: readonly CrmInboxItem[]): InboundReply
  /** One deal with its contacts, or null when the CRM no longer has it. */
  readDeal(connection: CrmConnection<O>, dealId: string, env: IntegrationEnv): Promise<CrmDeal | null>
  /** The deals a contact is on (a contact's e-mail changed: those deals are read again). */
  dealsOfContact?(connection: CrmConnection<O>, contactId: string, env: IntegrationEnv): Promise<string[]>
  /** Deals changed after `cursor` (null: all), oldest change first. */
  fetch(connection: CrmConnection<O>, cursor: string | null, env: IntegrationEnv): Promise<CrmDealPage>
  /** Writes attribution fields; a 429 is `retry` with the CRM's Retry-After. */
  writeBack(connection: CrmConnection<O>, write: CrmWriteBack, env: IntegrationEnv): Promise<DeliveryResult>
}
