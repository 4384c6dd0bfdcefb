// The interface every conversion destination implements (one file per platform, listed in
// destinations/registry.ts): options, whether the platform can match a lead, and either sending
// conversions through its API (build a batch, send it, a result per row) or serving a CSV feed
// the platform downloads on its own schedule.

import type { Stage } from '../../store/types.js'
import type { DeliveryResult, IntegrationEnv, RawOptions } from '../types.js'

export const FEED_KINDS = ['google-ads-feed', 'microsoft-ads-feed'] as const
export const API_KINDS = ['google-ads', 'meta', 'linkedin'] as const
export const DESTINATION_KINDS = ['google-ads', 'google-ads-feed', 'microsoft-ads-feed', 'meta', 'linkedin'] as const satisfies ReadonlyArray<ApiKind | FeedKind>
export type FeedKind = (typeof FEED_KINDS)[number]
export type ApiKind = (typeof API_KINDS)[number]
export type DestinationKind = (typeof DESTINATION_KINDS)[number]

/** What a stage is sent as (`--send sql="Qualified lead":100`). */
export interface ConversionAction {
  /** The platform's conversion (action, event) name. */
  name: string
  /** Fixed value; null sends the deal amount (`won` without a value). */
  value: number | null
}

/** A site's link to one ad account, with its options parsed (secrets decrypted). */
export interface Destination<O> {
  id: string
  siteId: string
  kind: DestinationKind
  options: O
  /** The stages that are sent, and as what. */
  send: Partial<Record<Stage, ConversionAction>>
}

/** A click ID from one of the lead's touches. */
export interface ClickRef {
  /** The URL parameter it came in: gclid, gbraid, wbraid, msclkid, fbclid, li_fat_id, … */
  type: string
  value: string
  /** When the click's touch began, epoch ms. */
  ts: number
}

/** What the outbox knows of a lead when it first reaches a sent stage. */
export interface LeadMatchContext {
  leadId: string
  /** When the lead reached the stage, epoch ms: click windows are counted back from it. */
  convertedAt: number
  /** Click IDs of the lead's touches, newest first. */
  clicks: readonly ClickRef[]
  /** An e-mail / a phone number is on file for enhanced matching. */
  hasEmail: boolean
  hasPhone: boolean
}

/** How the platform would match a conversion: by a click of its own inside its window, or by hashed identity. */
export type PlatformMatch = { by: 'click'; click: ClickRef } | { by: 'identity' }

/** One outbox row, ready to send: one (destination, lead, stage). */
export interface ConversionRow {
  /** The row's key, sent as the platform's order/event ID so a resend never counts twice. */
  key: string
  leadId: string
  stage: Stage
  conversionName: string
  /** In `currency`; null when there is no value to send. */
  value: number | null
  /** ISO 4217 (the site currency). */
  currency: string
  /** When the lead reached the stage, epoch ms. */
  occurredAt: number
  /** The click the row matches by, or null for identity matching. */
  click: ClickRef | null
  /** Normalised but not hashed: each platform has its own rules before hashing (the adapter applies them). */
  email: string | null
  /** E.164. */
  phone: string | null
  /** Meta's browser ID (`_fbp`) when captured. */
  fbp: string | null
}

/** One HTTP request to the platform. Authorization is added by `send` (tokens may need a refresh first). */
export interface PlatformRequest {
  method: 'POST' | 'PUT'
  url: string
  headers: Record<string, string>
  body: string
  /** Keys of the rows the request carries, in the order the platform answers them. */
  rowKeys: string[]
}

export interface PlatformBatch {
  requests: PlatformRequest[]
  /**
   * Rows no request carries because the platform could not take them as they are (no conversion
   * configured for their name, nothing to match on), each with its final `failed` result; `send`
   * returns them among its results, so every row of the batch still gets one.
   */
  unsendable?: RowResult[]
}

/** The result of one row of a sent batch; every row of the batch gets one. */
export interface RowResult {
  key: string
  result: DeliveryResult
}

interface DestinationAdapterBase<O> {
  /** Option names whose values are secrets: stored encrypted, never printed back. */
  readonly secretOptions: readonly string[]
  /** Validates `destinations add` options; throws CL_ERR_BAD_CONFIG naming the option. */
  parseOptions(raw: RawOptions): O
  /** How the platform can match this lead, or null when it cannot (no row is queued then). */
  matchable(lead: LeadMatchContext, destination: Destination<O>): PlatformMatch | null
}

/** A platform with a conversions API: rows are pushed. */
export interface ApiDestinationAdapter<O = unknown> extends DestinationAdapterBase<O> {
  readonly kind: ApiKind
  /** The platform request(s) carrying `rows`; pure, so a batch can be inspected and retried. */
  buildBatch(rows: readonly ConversionRow[], destination: Destination<O>): PlatformBatch
  /** Sends a built batch; a 429 is `retry` with the platform's Retry-After, a partial failure a per-row `failed`. */
  send(batch: PlatformBatch, destination: Destination<O>, env: IntegrationEnv): Promise<RowResult[]>
}

/** A platform that downloads a CSV feed from Closeloop (scheduled uploads): rows are pulled. */
export interface FeedDestinationAdapter<O = unknown> extends DestinationAdapterBase<O> {
  readonly kind: FeedKind
  /** The feed file in the platform's template, rows as given (the caller picks the last 90 days). */
  feed(rows: readonly ConversionRow[], destination: Destination<O>): string
}

export type DestinationAdapter<O = unknown> = ApiDestinationAdapter<O> | FeedDestinationAdapter<O>

export function isFeedAdapter<O>(a: DestinationAdapter<O>): a is FeedDestinationAdapter<O> {
  return (FEED_KINDS as readonly string[]).includes(a.kind)
}
