// The storage contract. Routes and the attribution engine talk only to `Store`;
// every implementation (SQLite and PostgreSQL) passes test/store/contract.ts.
// Touch is the tracker's own shape (snake_case, the wire format) on purpose: one shape from the
// browser to the database.

import type { Touch as TrackerTouch } from '@closeloop/tracker'
import type { Deal, OutcomeStore } from '../outcomes/types.js'
import type { JourneyMode, Stage } from '../attribution/types.js'

// The stage vocabulary is the engine's (attribution/types.ts); re-exported for the store's users.
export { STAGES, type Stage } from '../attribution/types.js'

export interface SiteSettings {
  /** CRM stage name (lower-cased) → Closeloop stage. */
  stageMapping?: Record<string, Stage>
  /** Other own domains whose referrals are not new touches (mirrors the tracker option). */
  internalDomains?: string[]
  /** ISO 3166 alpha-2 region for phone numbers given without a country code (default `US`). */
  phoneRegion?: string
  /** Store events from bot user agents (headless browsers) instead of dropping them: for testing a site. */
  keepBots?: boolean
  /** Default journey of reports: whose touches make a deal's path (default `deal`). */
  journey?: JourneyMode
  /** Raw events and touches older than this many days are deleted daily (absent: kept). */
  retentionDays?: number
}

export interface Site {
  id: string
  name: string
  publicKey: string
  /** Allowed browser origins, e.g. https://example.com. */
  origins: string[]
  cookieDomain: string | null
  /** ISO 4217 reporting currency. */
  currency: string
  settings: SiteSettings
  createdAt: number
}

export interface NewSite {
  name: string
  origins: string[]
  cookieDomain?: string | null
  currency?: string
  settings?: SiteSettings
  publicKey: string
  /** Public lookup part of the secret key; the rest is only stored hashed. */
  secretKeyId: string
  /** SHA-256 (hex) of the whole secret key. */
  secretKeyHash: string
}

/**
 * A touch as stored and read back: the tracker's Touch with its optional fields also nullable,
 * since a value the touch did not carry is a NULL column.
 */
export type Touch = { [K in keyof TrackerTouch]: undefined extends TrackerTouch[K] ? TrackerTouch[K] | null : TrackerTouch[K] }

export interface StoredTouch extends Touch {
  /** ID of the event that opened the touch. `ts` is that event's (skew-corrected) time. */
  touchId: string
  visitorId: string
  sessionId: string
}

export type EventType = 'page' | 'track' | 'identify'

export interface IngestEvent {
  siteId: string
  /**
   * Client-generated event ID; unique per (siteId, visitorId, id), which makes retries (always
   * sent with their original visitor ID) idempotent.
   */
  id: string
  type: EventType
  /** Event time after clock-skew correction (collect) or as given (import). */
  ts: number
  receivedAt: number
  visitorId: string
  sessionId: string
  url?: string | null
  ref?: string | null
  title?: string | null
  name?: string | null
  props?: Record<string, unknown> | null
  /** Stored as given: the caller removes raw email/phone first (they are kept only encrypted). */
  traits?: Record<string, unknown> | null
  /** Present on the event that opened a touch; stored with the event's `ts` (one clock per journey). */
  touch?: Touch | null
  /**
   * Set by /v1/import (secret key). Only an imported touch may move a lead's original source
   * earlier; a collected one from a device with a slow clock never does.
   */
  imported?: boolean
  /**
   * Suppression hashes of the event's visitor and person: when any is on the site's
   * suppression list the event is not stored (outcome `suppressed`). Checked inside the write
   * transaction, so an erasure committed before it is never undone by an event that was already
   * on its way.
   */
  suppression?: readonly string[]
}

export interface IngestResult {
  accepted: number
  duplicates: number
  /** Events not stored because a suppression hash matched. */
  suppressed: number
  /** Per input event, in input order. */
  outcome: Array<'accepted' | 'duplicate' | 'suppressed'>
}

export interface RejectedEvent {
  siteId: string | null
  receivedAt: number
  code: string
  /** Bounded excerpt of the offending input, for debugging; never re-parsed. */
  payload: string
}

export type IdentityKind = 'email' | 'phone' | 'external'

export interface PersonExport {
  leads: LeadJourney[]
  events: Array<Record<string, unknown>>
  /** Touches of all the person's visitors, identified or not, in time order. */
  touches: StoredTouch[]
}

/** What an erasure removed. Deals go too: their key hashes and amounts are about the person. */
export interface Erased {
  leads: number
  visitors: number
  events: number
  deals: number
}

/** Data-quality figures of a site (dashboard): paid-channel touches in a time range and rejections. */
export interface QualityStats {
  /** Touches in a paid channel (Paid *, Display, Cross-network). */
  paidTouches: number
  /** Of those, the ones carrying source, medium and campaign. */
  completePaid: number
  /** Paid touches missing one of them, by (source, medium, click ID type), most first, at most 50. */
  untaggedPaid: Array<{ source: string; medium: string; clickIdType: string | null; touches: number }>
  /** Events refused in the time range (by receipt), by code, most first. */
  rejected: Array<{ code: string; count: number }>
  /** Events dropped without a stored copy (bot, origin, suppressed), by UTC day of receipt in the range. */
  dropped: Record<DropReason, number>
}

/** Why an event was not stored without being recorded as rejected (counted only). */
export type DropReason = 'bot' | 'origin' | 'suppressed'
export const DROP_REASONS: readonly DropReason[] = ['bot', 'origin', 'suppressed']

export interface DroppedCount {
  siteId: string
  reason: DropReason
  /** When received: counted on its UTC day. */
  receivedAt: number
  count: number
}

/** Two leads that one identify call found by different keys (recorded, not merged). */
export interface LeadConflict {
  keptLeadId: string
  otherLeadId: string
  kind: IdentityKind
  createdAt: number
}

export interface IdentityKey {
  kind: IdentityKind
  /** Keyed hash of the normalised value (externalId: of the value as given), identity/match-keys.ts `matchHash`. */
  hash: string
}

export interface IdentifyInput {
  siteId: string
  /** The browser visitor to link; absent when the tracker never ran: the lead gets no visitor link. */
  visitorId?: string | null
  keys: IdentityKey[]
  /** AES-256-GCM ciphertexts (see crypto.ts), never raw values. */
  emailEnc?: string | null
  phoneEnc?: string | null
  externalId?: string | null
  traits?: Record<string, unknown> | null
  ts: number
  /**
   * Suppression hashes of the visitor and person: when any is on the site's suppression list the
   * identify fails with CL_ERR_SUPPRESSED, checked inside its write transaction (see IngestEvent).
   */
  suppression?: readonly string[]
  /** The lead's CRM company as sent (bounded): its account; wins over `accountDomain`. */
  company?: string | null
  /** The registrable domain of the lead's e-mail (never a free-mail one): its account when no company is known. */
  accountDomain?: string | null
  /**
   * A publishable-key identify (from a browser, which anyone can send): when the keys find an
   * existing lead, only the visitor is linked — the lead's fields, identity keys, account and
   * pending deals stay as they are. A new lead is created as usual. Secret-key identifies are
   * authoritative and leave this unset.
   */
  linkOnly?: boolean
  /**
   * Also return the lead's journey, read in the identify transaction (saves a getLead after it).
   * A store may leave it out; the caller then reads getLead. Default false.
   */
  journey?: boolean
}

export interface IdentifyOutcome {
  leadId: string
  created: boolean
  visitorIds: string[]
  /** Set when the keys pointed at two different leads; the email match won. */
  conflict?: { keptLeadId: string; otherLeadId: string; kind: IdentityKind } | null
  /** When asked for (`IdentifyInput.journey`) and the store provides it. */
  journey?: LeadJourney
}

export interface Lead {
  id: string
  siteId: string
  createdAt: number
  /** Time of the first identify: the `lead` conversion time. */
  identifiedAt: number
  emailEnc: string | null
  phoneEnc: string | null
  externalId: string | null
  traits: Record<string, unknown>
  /** Original source: fixed once set. */
  firstTouchId: string | null
  /** The account (company) the lead belongs to, if any. */
  accountId: string | null
}

/** Where an account comes from: a CRM company name, or an e-mail domain. */
export type AccountSource = 'crm' | 'domain'

export interface Account {
  id: string
  siteId: string
  /** The e-mail domain of a `domain` account. */
  domain: string | null
  /** The company name of a `crm` account, as first sent. */
  name: string | null
  source: AccountSource
  createdAt: number
}

/** A deal of an account, with every known person it names (primary first). */
export interface AccountDeal extends Deal {
  leadIds: string[]
}

export interface AccountView {
  account: Account
  /** Its leads, oldest first. */
  leadIds: string[]
  /** Deals naming any of its leads, oldest first. */
  deals: AccountDeal[]
}

export interface LeadJourney {
  lead: Lead
  visitorIds: string[]
  /** All touches of all the lead's visitors, oldest first. */
  touches: StoredTouch[]
}

export interface PersonSelector {
  emailHash?: string
  phoneHash?: string
  externalIdHash?: string
  visitorId?: string
  /**
   * Erase only: the person's raw identifiers (e-mails, phones, external IDs, visitor IDs, as sent
   * and as encoded in URLs and JSON). Rejected-event rows holding any of them are deleted too:
   * they keep the request as sent, outside the lead's tables.
   */
  scrubTerms?: readonly string[]
}

export interface StoreStats {
  /** Group-commit transactions committed since open. */
  flushes: number
  /** Write requests (ingest, identify, …) committed since open. */
  jobs: number
  /** Most write requests one transaction carried. */
  maxBatch: number
  /** Transactions by write requests carried, per group-commit COMMIT_SIZE_BOUNDS bucket (last: +Inf). */
  commitSizes: readonly number[]
  /** PostgreSQL: transactions run again whole after a deadlock or serialization failure. */
  batchRetries?: number
  /** SQLite: fsyncs of the WAL the store made after commits (durable acknowledgements). */
  fsyncs?: number
  /** SQLite: the in-memory report input (see store/sqlite/report-cache.ts). */
  reportCache?: { touches: number; sites: number; touchScans: number; outcomeLoads: number; refreshed: number; appended: number; tablesReleased: number }
}

/** A site's link to one CRM account as stored: secret option values are ciphertexts (crypto.ts). */
export interface CrmConnectionRecord {
  id: string
  siteId: string
  kind: string
  options: Record<string, string | boolean>
  writeBack: boolean
  createdAt: number
  /** Where the next pull resumes (the connector's own format). */
  cursor: string | null
  lastEventAt: number | null
  lastSyncAt: number | null
  /** Failures so far (inbox rows, pulls), and the latest one's reason and time. */
  errors: number
  lastError: string | null
  lastErrorAt: number | null
}

export interface NewCrmConnection {
  id: string
  siteId: string
  kind: string
  options: Record<string, string | boolean>
  writeBack: boolean
  createdAt: number
}

/** What a pull or an inbox row changed about its connection. */
export interface CrmStatusPatch {
  cursor?: string | null
  lastSyncAt?: number
  /** A failure: counted, and kept as the latest reason. */
  error?: { reason: string; at: number }
}

/** One change a webhook reported, waiting in the durable inbox. */
export interface CrmInboxEntry {
  id: string
  connectionId: string
  /** The connector's item (CrmInboxItem) as JSON. */
  item: string
  receivedAt: number
  attempts: number
}

/** What became of an inbox row after one attempt. */
export type CrmInboxOutcome =
  | { status: 'done' }
  | { status: 'retry'; at: number; reason: string }
  | { status: 'failed'; reason: string }

/**
 * One attribution write-back for the CRM outbox. Rows are keyed by (connection, object, target):
 * a newer write for the same record replaces the fields (only the latest values matter).
 */
export interface CrmOutboxWrite {
  connectionId: string
  object: 'contact' | 'deal'
  /** contact: Closeloop's lead ID; deal: the CRM's deal ID. */
  target: string
  /** contact: the CRM's contact ID when known; a later write without one keeps the stored one. */
  contactId: string | null
  /** contact: the e-mail to find the contact by when its ID is unknown, as a ciphertext (crypto.ts). */
  emailEnc: string | null
  /** The fields to write, as JSON. */
  fields: string
}

/** A write-back row handed out for delivery. */
export interface CrmOutboxEntry extends CrmOutboxWrite {
  id: string
  /** Changes with every newer write: a delivery settles only the version it sent. */
  version: number
  attempts: number
  /** When the current values were queued (the retry policy's give-up clock). */
  queuedAt: number
}

/** What became of a write-back row after one attempt. */
export type CrmOutboxOutcome =
  | { status: 'sent'; at: number }
  | { status: 'retry'; at: number; next: number; reason: string }
  | { status: 'failed'; at: number; reason: string }

/** Write-back rows of one connection, for `crm list` and /metrics. */
export interface CrmOutboxCounts {
  connectionId: string
  sent: number
  pending: number
  failed: number
  lastError: string | null
  lastErrorAt: number | null
}

/** The CRM connections, their durable inbox of webhook changes and their outbox of write-backs. */
export interface CrmStore {
  addCrmConnection(input: NewCrmConnection): Promise<CrmConnectionRecord>
  getCrmConnection(id: string): Promise<CrmConnectionRecord | null>
  /** Every connection, oldest first. */
  listCrmConnections(): Promise<CrmConnectionRecord[]>
  /** Removes the connection, its inbox and its outbox; false when there was none. */
  removeCrmConnection(id: string): Promise<boolean>
  updateCrmStatus(id: string, patch: CrmStatusPatch): Promise<void>
  /**
   * Stores webhook items durably (resolves after commit) and the connection's last event time.
   * An item whose key the connection's inbox already holds is a redelivery: not stored again.
   */
  enqueueCrmInbox(connectionId: string, items: ReadonlyArray<{ key: string; item: string }>, receivedAt: number): Promise<{ stored: number; duplicates: number }>
  /** Rows waiting whose next attempt is due at `now`, oldest first. */
  dueCrmInbox(now: number, limit: number): Promise<CrmInboxEntry[]>
  /** Rows not done yet (waiting or retrying), for /metrics. */
  pendingCrmInbox(): Promise<number>
  settleCrmInbox(id: string, outcome: CrmInboxOutcome): Promise<void>
  /** Deletes settled rows received before `before` (kept until then to recognise redeliveries). */
  pruneCrmInbox(before: number): Promise<number>
  /**
   * Queues write-backs durably (resolves after commit), due at `now`. A row already held for the
   * same (connection, object, target) takes the new values and is due again, unless nothing
   * changed and it is not failed. Returns how many rows were queued or changed.
   */
  enqueueCrmOutbox(rows: readonly CrmOutboxWrite[], now: number): Promise<number>
  /**
   * Claims pending rows due at `now`, oldest first: a claimed row is not handed out again before
   * `now + leaseMs` (it is due again then if its delivery never settled, e.g. after a crash).
   */
  dueCrmOutbox(now: number, limit: number, leaseMs: number): Promise<CrmOutboxEntry[]>
  /** Settles the delivery of `version`; false (nothing changed) when a newer write replaced it meanwhile. */
  settleCrmOutbox(id: string, version: number, outcome: CrmOutboxOutcome): Promise<boolean>
  /** Sent, pending and failed rows and the latest error, per connection that has any. */
  crmOutboxCounts(): Promise<CrmOutboxCounts[]>
  /** Deletes sent and failed rows settled before `before`. */
  pruneCrmOutbox(before: number): Promise<number>
}

/** A site's link to one ad platform as stored: secret option values are ciphertexts (crypto.ts). */
export interface DestinationRecord {
  id: string
  siteId: string
  kind: string
  options: Record<string, string | boolean>
  /** Stage → conversion name and fixed value (null = the deal amount). */
  send: Partial<Record<Stage, { name: string; value: number | null }>>
  /** Feeds: the HTTP Basic user, and SHA-256 (hex) of its password (shown once at `destinations add`). */
  feedUser: string | null
  feedSecretHash: string | null
  createdAt: number
  /** The delivery worker's latest success, and latest failure (a row refused or retried) with its reason. */
  lastSentAt: number | null
  lastError: string | null
  lastErrorAt: number | null
}

export type NewDestination = Omit<DestinationRecord, 'lastSentAt' | 'lastError' | 'lastErrorAt'>

/** What a delivery round learnt about a destination. */
export interface DestinationStatusPatch {
  sentAt?: number
  error?: { reason: string; at: number }
}

/** Where a conversion row stands. `unmatched`: recorded for the figures only (never sent); `reason` says why. */
export type ConversionStatus = 'pending' | 'sent' | 'failed' | 'unmatched'

/** Why a lead reaching a sent stage could not be sent to a platform. */
export type UnmatchedReason = 'no_consent' | 'no_click_id' | 'outside_window'

/** One (destination, lead, stage) of the conversion outbox, with what sending it needs. */
export interface ConversionOutboxRow {
  /** Stable; sent as the platform's order/event ID. */
  key: string
  destinationId: string
  siteId: string
  leadId: string
  stage: Stage
  conversionName: string
  value: number | null
  /** The deal amount behind the row (won revenue), whatever value is sent. */
  revenue: number | null
  currency: string
  occurredAt: number
  /** How the platform matches it: its click, or hashed identity. */
  matchBy: 'click' | 'identity' | null
  click: { type: string; value: string; ts: number } | null
  status: ConversionStatus
  attempts: number
  nextAt: number
  reason: string | null
  queuedAt: number
  sentAt: number | null
  /** The lead's e-mail and phone ciphertexts (pii.ts), read at send time, never copied into the outbox. */
  emailEnc: string | null
  phoneEnc: string | null
  /** Meta's browser ID from the lead's newest touch that captured one, read at send time. */
  fbp: string | null
}

/** What became of one outbox row after one attempt (see DeliveryResult). */
export type ConversionOutcome =
  | { status: 'sent'; at: number }
  | { status: 'retry'; at: number; reason: string }
  | { status: 'failed'; reason: string }

/** Outbox figures by destination, stage and status (reasons of failed and unmatched rows). */
export interface ConversionCount {
  destinationId: string
  kind: string
  stage: Stage
  status: ConversionStatus
  reason: string | null
  rows: number
  /** Sum of the rows' revenue (deal amounts). */
  revenue: number
}

/** Ad-platform destinations and their conversion outbox. */
export interface DestinationStore {
  addDestination(input: NewDestination): Promise<DestinationRecord>
  getDestination(id: string): Promise<DestinationRecord | null>
  /** Every destination (of a site), oldest first. */
  listDestinations(siteId?: string): Promise<DestinationRecord[]>
  /** Removes the destination and its outbox; false when there was none. */
  removeDestination(id: string): Promise<boolean>
  /**
   * Claims up to `limit` pending rows due at `now` (of API destinations: feeds are pulled) and
   * pushes their next attempt to `claimUntil`, so another collector sharing the database does not
   * take them meanwhile; a crash leaves them due again at `claimUntil`, with the same keys.
   */
  claimConversions(now: number, claimUntil: number, limit: number): Promise<ConversionOutboxRow[]>
  settleConversions(outcomes: ReadonlyArray<{ key: string; outcome: ConversionOutcome }>): Promise<void>
  /** Records the destination's latest success or failure (a destination failing: its error is newer than its last send). */
  updateDestinationStatus(id: string, patch: DestinationStatusPatch): Promise<void>
  /** A feed's rows (pending or sent) that occurred at or after `since`, oldest first; marks the pending ones sent at `now`. */
  feedConversions(destinationId: string, since: number, now: number): Promise<ConversionOutboxRow[]>
  /** Row counts by destination, stage, status and reason (of one site, or all). */
  conversionCounts(siteId?: string): Promise<ConversionCount[]>
}

export interface Store extends OutcomeStore, CrmStore, DestinationStore {
  /**
   * Changes whenever data this store reads may have changed: after every write committed through
   * it, and after a commit by any other process (SQLite: PRAGMA data_version, e.g. the CLI;
   * PostgreSQL: the server's transaction snapshot, e.g. other collectors). A version read after a
   * write was acknowledged, by any process, differs from every version read before its commit.
   * SQLite answers from memory (a string); PostgreSQL asks the server (a promise).
   */
  dataVersion(): string | Promise<string>
  /** Create or upgrade the schema (versioned migrations). Idempotent. */
  migrate(): Promise<void>
  /**
   * Rewrites every stored match-key hash h (lead identities, deals' and deal contacts' pending
   * keys) to `rekey(h)` in one transaction, once: a marker in the store records it, and later calls
   * (also from other processes starting at once) change nothing and return 0. Returns the values
   * rewritten. The caller holds the key; the store only applies it (identity/match-keys.ts).
   */
  rekeyMatchHashes(rekey: (hash: string) => string): Promise<number>
  /** Flush pending group commits and release the database. */
  close(): Promise<void>

  createSite(site: NewSite): Promise<Site>
  getSite(id: string): Promise<Site | null>
  getSiteByName(name: string): Promise<Site | null>
  getSiteByPublicKey(publicKey: string): Promise<Site | null>
  /** Returns the site and its stored secret hash, for a constant-time comparison by the caller. */
  getSiteBySecretKeyId(keyId: string): Promise<{ site: Site; secretKeyHash: string } | null>
  listSites(): Promise<Site[]>
  updateSite(id: string, patch: Partial<Pick<Site, 'origins' | 'cookieDomain' | 'currency' | 'settings' | 'name'>>): Promise<Site>

  /**
   * Durably store a batch (events and their touches; visitors and sessions are views over events); resolves only after commit.
   * Concurrent calls share one transaction (group commit). Duplicate IDs are not stored twice.
   */
  ingest(events: IngestEvent[]): Promise<IngestResult>
  recordRejected(rows: RejectedEvent[]): Promise<void>
  /** Add to the per-site, per-day counts of dropped events (data-quality view). */
  countDropped(rows: DroppedCount[]): Promise<void>
  /** Most recent rejected events of a site, newest first (data-quality view). */
  listRejected(siteId: string, limit?: number): Promise<RejectedEvent[]>
  /** Most recent identity conflicts of a site, newest first (data-quality view: duplicate leads). */
  listConflicts(siteId: string, limit?: number): Promise<LeadConflict[]>
  /** Paid-touch tagging and rejections in [from, to] (epoch ms; null = unbounded). */
  qualityStats(siteId: string, from: number | null, to: number | null): Promise<QualityStats>

  identify(input: IdentifyInput): Promise<IdentifyOutcome>
  getLead(siteId: string, leadId: string): Promise<LeadJourney | null>
  /** The lead holding this match key (e.g. an email's hash), or null; the lead search of the dashboard. */
  findLeadByKey(siteId: string, key: IdentityKey): Promise<string | null>
  /** The lead a browser visitor was last linked to (a shared device may have several), or null. */
  findLeadByVisitor(siteId: string, visitorId: string): Promise<string | null>
  /** The site's newest leads, by identify time (then ID), newest first. */
  recentLeads(siteId: string, limit: number): Promise<Lead[]>
  /** An account with its leads and their deals, or null when the site has no such account. */
  getAccount(siteId: string, accountId: string): Promise<AccountView | null>

  /** True when any of the hashes is suppressed (an erased person). */
  isSuppressed(siteId: string, hashes: string[]): Promise<boolean>
  /** Delete the person's lead, visitors, touches, events, identities; keep salted suppression hashes. */
  erase(siteId: string, who: PersonSelector, suppressionHashes: string[]): Promise<Erased>
  /**
   * Retention: deletes the site's events and touches older than `before`, except each lead's
   * recorded first touch and its newest touch (so a lead's original and latest source survive).
   */
  applyRetention(siteId: string, before: number): Promise<{ events: number; touches: number }>
  /** Deletes rejected-event rows received before `before` (every site). */
  pruneRejected(before: number): Promise<number>
  /** Everything held about the person: their leads' journeys, and every event and touch of all their visitors. */
  exportPerson(siteId: string, who: PersonSelector): Promise<PersonExport>

  /** Counters for /metrics. */
  stats(): StoreStats
}
