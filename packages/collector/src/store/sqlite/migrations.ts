// SQLite schema, as ordered versioned migrations. Each runs once, in its own transaction, and is
// recorded in schema_migrations. To change the schema, APPEND a migration with the next version
// (e.g. 2: deals, 3: spend); never edit one that may already have run somewhere.

export interface Migration {
  version: number
  name: string
  sql: string
}

const core: Migration = {
  version: 1,
  name: 'core',
  sql: `
CREATE TABLE sites (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  public_key    TEXT NOT NULL UNIQUE,
  origins       TEXT NOT NULL,            -- JSON array of origins
  cookie_domain TEXT,
  currency      TEXT NOT NULL,
  settings      TEXT NOT NULL,            -- JSON SiteSettings
  created_at    INTEGER NOT NULL
);

-- Secret keys: looked up by their public key id, the whole key only as SHA-256.
CREATE TABLE site_keys (
  key_id      TEXT PRIMARY KEY,
  site_id     TEXT NOT NULL REFERENCES sites(id),
  secret_hash TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX site_keys_site ON site_keys(site_id);

CREATE TABLE visitors (
  site_id    TEXT NOT NULL,
  id         TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

CREATE TABLE sessions (
  site_id    TEXT NOT NULL,
  id         TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX sessions_visitor ON sessions(site_id, visitor_id);

-- id is the client-generated event ID: the dedupe key that makes retries idempotent. The key
-- is (site, visitor, id) rather than (site, id) so that one b-tree both dedupes and holds a
-- visitor's events together (erase/export); a retry always carries the visitor ID of its
-- original, and a second index would cost ~40% of bulk-import speed.
CREATE TABLE events (
  site_id     TEXT NOT NULL,
  id          TEXT NOT NULL,
  type        TEXT NOT NULL,
  ts          INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  visitor_id  TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  url         TEXT,
  ref         TEXT,
  title       TEXT,
  name        TEXT,
  props       TEXT,                      -- JSON
  traits      TEXT,                      -- JSON
  PRIMARY KEY (site_id, visitor_id, id)
) WITHOUT ROWID;

-- One row per arrival, keyed by the event that opened it. Clustered by visitor and time: a
-- journey is one contiguous range, and a full scan yields journeys already grouped and ordered.
-- (site_id, id) needs no index of its own: the opening event's primary key already dedupes it.
CREATE TABLE touches (
  site_id          TEXT NOT NULL,
  id               TEXT NOT NULL,
  visitor_id       TEXT NOT NULL,
  session_id       TEXT NOT NULL,
  ts               INTEGER NOT NULL,
  source           TEXT NOT NULL,
  medium           TEXT NOT NULL,
  campaign         TEXT,
  term             TEXT,
  content          TEXT,
  utm_id           TEXT,
  source_platform  TEXT,
  creative_format  TEXT,
  marketing_tactic TEXT,
  click_id         TEXT,
  click_id_type    TEXT,
  referrer         TEXT,
  landing          TEXT,
  channel          TEXT NOT NULL,
  PRIMARY KEY (site_id, visitor_id, ts, id)
) WITHOUT ROWID;
-- No (site_id, ts) index on purpose: reports read whole journeys, which a primary-key range scan
-- of the site already yields grouped and ordered; the extra index cost ~35% of import speed.

CREATE TABLE leads (
  id             TEXT PRIMARY KEY,
  site_id        TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  identified_at  INTEGER NOT NULL,
  email_enc      TEXT,
  phone_enc      TEXT,
  external_id    TEXT,
  traits         TEXT NOT NULL,          -- JSON
  first_touch_id TEXT,
  first_touch_ts INTEGER
);
CREATE INDEX leads_site_identified ON leads(site_id, identified_at);

-- Match keys: SHA-256 of the normalised email/phone or of the external ID. Unique per site, so
-- one key can only ever point at one lead.
CREATE TABLE lead_identities (
  site_id    TEXT NOT NULL,
  kind       TEXT NOT NULL,
  hash       TEXT NOT NULL,
  lead_id    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, kind, hash)
) WITHOUT ROWID;
CREATE INDEX lead_identities_lead ON lead_identities(lead_id);

-- A lead has many visitors (devices); a shared device may belong to more than one lead.
CREATE TABLE lead_visitors (
  site_id    TEXT NOT NULL,
  lead_id    TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  linked_at  INTEGER NOT NULL,
  PRIMARY KEY (site_id, lead_id, visitor_id)
) WITHOUT ROWID;
CREATE INDEX lead_visitors_visitor ON lead_visitors(site_id, visitor_id);

-- Keys of one identify call that pointed at different leads: kept apart, recorded for review.
CREATE TABLE lead_conflicts (
  id            INTEGER PRIMARY KEY,
  site_id       TEXT NOT NULL,
  kept_lead_id  TEXT NOT NULL,
  other_lead_id TEXT NOT NULL,
  kind          TEXT NOT NULL,
  visitor_id    TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);
CREATE INDEX lead_conflicts_site ON lead_conflicts(site_id, created_at);

CREATE TABLE rejected_events (
  id          INTEGER PRIMARY KEY,
  site_id     TEXT,
  received_at INTEGER NOT NULL,
  code        TEXT NOT NULL,
  payload     TEXT NOT NULL
);
CREATE INDEX rejected_events_site ON rejected_events(site_id, received_at);

-- Salted hashes of erased people; data matching one is dropped at ingestion.
CREATE TABLE suppressions (
  site_id    TEXT NOT NULL,
  hash       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, hash)
) WITHOUT ROWID;
`,
}

const outcomes: Migration = {
  version: 2,
  name: 'deals, spend, fx rates',
  sql: `
-- Deals from the CRM, upserted by their own ID. lead_id stays NULL while the person is unknown;
-- the key hashes link it when that person is identified.
CREATE TABLE deals (
  site_id           TEXT NOT NULL,
  id                TEXT NOT NULL,
  lead_id           TEXT,
  email_hash        TEXT,
  external_hash     TEXT,
  stage             TEXT NOT NULL,           -- stage of the latest change by time
  stage_ts          INTEGER NOT NULL,
  amount            REAL,                    -- site currency
  original_amount   REAL,
  original_currency TEXT,                    -- NULL = the site currency
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX deals_lead ON deals(site_id, lead_id);
CREATE INDEX deals_pending_email ON deals(site_id, email_hash) WHERE lead_id IS NULL;
CREATE INDEX deals_pending_external ON deals(site_id, external_hash) WHERE lead_id IS NULL;

-- Every stage change: what the CRM called it, when it was reached, the amount then.
CREATE TABLE deal_stages (
  id          INTEGER PRIMARY KEY,
  site_id     TEXT NOT NULL,
  deal_id     TEXT NOT NULL,
  stage       TEXT NOT NULL,
  crm_stage   TEXT NOT NULL,
  ts          INTEGER NOT NULL,
  amount      REAL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX deal_stages_deal ON deal_stages(site_id, deal_id, ts);

-- Ad spend per day; medium and campaign are '' when absent so the upsert key is total.
CREATE TABLE spend (
  site_id           TEXT NOT NULL,
  date              TEXT NOT NULL,
  source            TEXT NOT NULL,
  medium            TEXT NOT NULL,
  campaign          TEXT NOT NULL,
  amount            REAL NOT NULL,
  original_amount   REAL NOT NULL,
  original_currency TEXT,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (site_id, date, source, medium, campaign)
) WITHOUT ROWID;

-- 1 currency = rate × site currency; date '' is a standing rate.
CREATE TABLE fx_rates (
  site_id    TEXT NOT NULL,
  currency   TEXT NOT NULL,
  date       TEXT NOT NULL,
  rate       REAL NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, currency, date)
) WITHOUT ROWID;
`,
}

// Sessions keyed by their visitor, like events and touches: one b-tree instead of two (the
// (site_id, id) key plus the visitor index that erasure needed). Writing a new session touched two
// random pages of large files, now one: /v1/import of 500k events spent a third of its storage time
// on session upserts. It also keeps one visitor's session apart from another visitor that sends the
// same session ID, where the old key merged them into the first visitor's row.
const sessionsByVisitor: Migration = {
  version: 3,
  name: 'sessions keyed by visitor',
  sql: `
CREATE TABLE sessions_by_visitor (
  site_id    TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  id         TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  PRIMARY KEY (site_id, visitor_id, id)
) WITHOUT ROWID;
INSERT INTO sessions_by_visitor (site_id, visitor_id, id, started_at, last_seen)
  SELECT site_id, visitor_id, id, started_at, last_seen FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_by_visitor RENAME TO sessions;
`,
}

// Visitors and sessions derived from the events they summarise instead of stored beside them:
// nothing reads them on a hot path, and keeping them meant two more random b-tree pages written
// for every new visitor's event. A visitor's or session's rows are one range of the events' primary key (site,
// visitor, ...), which a WHERE on site_id and visitor_id reaches through the view. As PostHog
// derives sessions from $session_id. Old rows add nothing the events do not hold. Standard SQL: the
// PostgreSQL store runs this same migration.
export const DERIVED_VISITORS: Migration = {
  version: 4,
  name: 'visitors and sessions derived from events',
  sql: `
DROP TABLE sessions;
DROP TABLE visitors;
CREATE VIEW visitors AS
  SELECT site_id, visitor_id AS id, min(ts) AS first_seen, max(ts) AS last_seen
  FROM events GROUP BY site_id, visitor_id;
CREATE VIEW sessions AS
  SELECT site_id, visitor_id, session_id AS id, min(ts) AS started_at, max(ts) AS last_seen
  FROM events GROUP BY site_id, visitor_id, session_id;
`,
}

// Events dropped without a stored copy (bot user agents, unlisted origins, erased people), counted
// per site, UTC day and reason for the data-quality view: one row a day, however many arrive.
// Standard SQL: the PostgreSQL store runs this same migration.
export const DROPPED_EVENTS: Migration = {
  version: 5,
  name: 'dropped event counts',
  sql: `
CREATE TABLE dropped_events (
  site_id TEXT NOT NULL,
  day     BIGINT NOT NULL,
  reason  TEXT NOT NULL,
  count   BIGINT NOT NULL,
  PRIMARY KEY (site_id, day, reason)
);
`,
}

// B2B deals: a deal's people beyond its primary (who stays on deals.lead_id / its key hashes, so
// single-person deals read and link as before), each linked to a lead or pending by key hash like
// the primary; and accounts (companies) that leads belong to. Standard SQL: the PostgreSQL store
// runs this same migration.
export const DEAL_LEADS_ACCOUNTS: Migration = {
  version: 6,
  name: 'deal leads and accounts',
  sql: `
CREATE TABLE deal_leads (
  site_id       TEXT NOT NULL,
  deal_id       TEXT NOT NULL,
  position      INTEGER NOT NULL,
  lead_id       TEXT,
  email_hash    TEXT,
  external_hash TEXT,
  PRIMARY KEY (site_id, deal_id, position)
);
CREATE INDEX deal_leads_lead ON deal_leads(site_id, lead_id);
CREATE INDEX deal_leads_pending_email ON deal_leads(site_id, email_hash) WHERE lead_id IS NULL;
CREATE INDEX deal_leads_pending_external ON deal_leads(site_id, external_hash) WHERE lead_id IS NULL;
CREATE TABLE accounts (
  site_id    TEXT NOT NULL,
  id         TEXT NOT NULL,
  domain     TEXT,
  name       TEXT,
  source     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE INDEX accounts_domain ON accounts(site_id, domain);
ALTER TABLE leads ADD COLUMN account_id TEXT;
`,
}

// The leads of an account (GET /v1/accounts/{id}) without scanning the site's leads. Standard SQL:
// the PostgreSQL store runs this same migration.
export const LEADS_BY_ACCOUNT: Migration = {
  version: 7,
  name: 'leads by account',
  sql: `
CREATE INDEX leads_account ON leads(site_id, account_id) WHERE account_id IS NOT NULL;
`,
}

// CRM connections (secret options stored encrypted) and their durable inbox: a webhook is
// answered only after its changes are committed here; the worker settles each row. The unique
// (connection, key) makes a redelivered notification a no-op. Standard SQL: the PostgreSQL store
// runs this same migration.
export const CRM_CONNECTIONS: Migration = {
  version: 8,
  name: 'crm connections and inbox',
  sql: `
CREATE TABLE crm_connections (
  id            TEXT PRIMARY KEY,
  site_id       TEXT NOT NULL,
  kind          TEXT NOT NULL,
  options       TEXT NOT NULL,
  write_back    INTEGER NOT NULL,
  created_at    BIGINT NOT NULL,
  cursor        TEXT,
  last_event_at BIGINT,
  last_sync_at  BIGINT,
  errors        INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT,
  last_error_at BIGINT
);
CREATE TABLE crm_inbox (
  id            TEXT PRIMARY KEY,
  connection_id TEXT NOT NULL,
  event_key     TEXT NOT NULL,
  item          TEXT NOT NULL,
  received_at   BIGINT NOT NULL,
  status        TEXT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_at       BIGINT NOT NULL,
  last_error    TEXT,
  UNIQUE (connection_id, event_key)
);
CREATE INDEX crm_inbox_due ON crm_inbox(status, next_at);
`,
}

// The CRM write-back outbox: one row per (connection, object, target) — a contact row per lead, a
// deal row per CRM deal — that a newer write overwrites (only the latest values matter; `version`
// tells a delivery in flight that it was overtaken). The contact's e-mail, used when its CRM ID is
// unknown, is a ciphertext like every stored e-mail. Standard SQL: the PostgreSQL store runs this
// same migration.
export const CRM_OUTBOX: Migration = {
  version: 9,
  name: 'crm write-back outbox',
  sql: `
CREATE TABLE crm_outbox (
  id            TEXT PRIMARY KEY,
  connection_id TEXT NOT NULL,
  object        TEXT NOT NULL,
  target        TEXT NOT NULL,
  contact_id    TEXT,
  email_enc     TEXT,
  fields        TEXT NOT NULL,
  version       INTEGER NOT NULL DEFAULT 1,
  status        TEXT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_at       BIGINT NOT NULL,
  queued_at     BIGINT NOT NULL,
  last_error    TEXT,
  last_error_at BIGINT,
  sent_at       BIGINT,
  UNIQUE (connection_id, object, target)
);
CREATE INDEX crm_outbox_due ON crm_outbox(status, next_at);
`,
}

// Ad-platform destinations (secret options encrypted, a feed's password only hashed) and the
// conversion outbox: one row per (destination, lead, stage), written in the transaction of the
// stage change; its key is sent as the platform's order/event ID. `unmatched` rows are never sent:
// they record why a lead could not be (the dashboard's "what is missing"). Standard SQL: the PostgreSQL store runs this same migration.
export const DESTINATIONS: Migration = {
  version: 10,
  name: 'destinations and conversion outbox',
  sql: `
CREATE TABLE destinations (
  id               TEXT PRIMARY KEY,
  site_id          TEXT NOT NULL,
  kind             TEXT NOT NULL,
  options          TEXT NOT NULL,
  send             TEXT NOT NULL,
  feed_user        TEXT,
  feed_secret_hash TEXT,
  created_at       BIGINT NOT NULL,
  last_sent_at     BIGINT,
  last_error       TEXT,
  last_error_at    BIGINT
);
CREATE INDEX destinations_site ON destinations(site_id);
CREATE TABLE conversion_outbox (
  key             TEXT PRIMARY KEY,
  destination_id  TEXT NOT NULL,
  site_id         TEXT NOT NULL,
  lead_id         TEXT NOT NULL,
  stage           TEXT NOT NULL,
  conversion_name TEXT NOT NULL,
  value           DOUBLE PRECISION,
  revenue         DOUBLE PRECISION,
  currency        TEXT NOT NULL,
  occurred_at     BIGINT NOT NULL,
  match_by        TEXT,
  click_type      TEXT,
  click_id        TEXT,
  click_ts        BIGINT,
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_at         BIGINT NOT NULL,
  reason          TEXT,
  queued_at       BIGINT NOT NULL,
  sent_at         BIGINT,
  UNIQUE (destination_id, lead_id, stage)
);
CREATE INDEX conversion_outbox_due ON conversion_outbox(status, next_at);
CREATE INDEX conversion_outbox_lead ON conversion_outbox(site_id, lead_id);
CREATE INDEX conversion_outbox_feed ON conversion_outbox(destination_id, occurred_at);
`,
}

// Upgrades of stored data that need the install's key, which SQL migrations do not have (the
// first: match keys keyed with it, see Store.rekeyMatchHashes). One row per upgrade once it has
// run, so it never runs twice. Standard SQL: the PostgreSQL store runs this same migration.
export const DATA_UPGRADES: Migration = {
  version: 11,
  name: 'keyed data upgrades',
  sql: `
CREATE TABLE data_upgrades (
  name       TEXT PRIMARY KEY,
  rows       BIGINT NOT NULL,
  applied_at BIGINT NOT NULL
);
`,
}

// Meta's browser ID (`_fbp`) as the tracker captured it on a touch, for the Conversions API's
// user_data.fbp. On the touch row, so erasure and retention remove it with the touch. Standard
// SQL: the PostgreSQL store runs this same migration.
export const TOUCH_FBP: Migration = {
  version: 12,
  name: 'meta browser id on touches',
  sql: `
ALTER TABLE touches ADD COLUMN fbp TEXT;
`,
}

// Events and touches in arrival order. Keyed by (site, visitor, …) they were WITHOUT ROWID
// b-trees of whole rows, so every new visitor's event split or dirtied a random leaf of ~5 rows
// in each: a one-event group commit wrote two random 4 KB pages and often a split. Now the rows
// append to the tail of rowid tables (an implicit rowid: no column changes, so the PostgreSQL
// store and migrate-store see the same columns), and the same keys are unique indexes of small
// entries. Reads by visitor go through those indexes; a site's touch scan follows touches_site
// in arrival order, which reports accept in any order. Existing rows are copied in arrival order
// (events by received_at, touches by time). SQLite only: PostgreSQL's heap already appends.
export const APPEND_ORDER: Migration = {
  version: 13,
  name: 'events and touches in arrival order',
  sql: `
DROP VIEW visitors;
DROP VIEW sessions;
CREATE TABLE events_by_arrival (
  site_id     TEXT NOT NULL,
  id          TEXT NOT NULL,
  type        TEXT NOT NULL,
  ts          INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  visitor_id  TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  url         TEXT,
  ref         TEXT,
  title       TEXT,
  name        TEXT,
  props       TEXT,
  traits      TEXT
);
INSERT INTO events_by_arrival (site_id, id, type, ts, received_at, visitor_id, session_id, url, ref, title, name, props, traits)
  SELECT site_id, id, type, ts, received_at, visitor_id, session_id, url, ref, title, name, props, traits
  FROM events ORDER BY received_at, ts;
DROP TABLE events;
ALTER TABLE events_by_arrival RENAME TO events;
-- The dedupe key of retries, as the primary key was; also a visitor's events (erase, export).
CREATE UNIQUE INDEX events_key ON events(site_id, visitor_id, id);
CREATE TABLE touches_by_arrival (
  site_id          TEXT NOT NULL,
  id               TEXT NOT NULL,
  visitor_id       TEXT NOT NULL,
  session_id       TEXT NOT NULL,
  ts               INTEGER NOT NULL,
  source           TEXT NOT NULL,
  medium           TEXT NOT NULL,
  campaign         TEXT,
  term             TEXT,
  content          TEXT,
  utm_id           TEXT,
  source_platform  TEXT,
  creative_format  TEXT,
  marketing_tactic TEXT,
  click_id         TEXT,
  click_id_type    TEXT,
  referrer         TEXT,
  landing          TEXT,
  channel          TEXT NOT NULL,
  fbp              TEXT
);
INSERT INTO touches_by_arrival (site_id, id, visitor_id, session_id, ts, source, medium, campaign, term, content, utm_id,
    source_platform, creative_format, marketing_tactic, click_id, click_id_type, referrer, landing, channel, fbp)
  SELECT site_id, id, visitor_id, session_id, ts, source, medium, campaign, term, content, utm_id,
    source_platform, creative_format, marketing_tactic, click_id, click_id_type, referrer, landing, channel, fbp
  FROM touches ORDER BY ts;
DROP TABLE touches;
ALTER TABLE touches_by_arrival RENAME TO touches;
-- A journey in time order (identify, export, erase), as the primary key was.
CREATE UNIQUE INDEX touches_key ON touches(site_id, visitor_id, ts, id);
-- A site's touches in arrival order: the report scan reads the table front to back.
CREATE INDEX touches_site ON touches(site_id);
CREATE VIEW visitors AS
  SELECT site_id, visitor_id AS id, min(ts) AS first_seen, max(ts) AS last_seen
  FROM events GROUP BY site_id, visitor_id;
CREATE VIEW sessions AS
  SELECT site_id, visitor_id, session_id AS id, min(ts) AS started_at, max(ts) AS last_seen
  FROM events GROUP BY site_id, visitor_id, session_id;
`,
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [core, outcomes, sessionsByVisitor, DERIVED_VISITORS, DROPPED_EVENTS, DEAL_LEADS_ACCOUNTS, LEADS_BY_ACCOUNT, CRM_CONNECTIONS, CRM_OUTBOX, DESTINATIONS, DATA_UPGRADES, TOUCH_FBP, APPEND_ORDER]

/** The data_upgrades row of the match keys' rekeying (Store.rekeyMatchHashes). */
export const MATCH_KEYS_UPGRADE = 'match keys keyed'

/** Every column that holds a match key (lead identities; pending people of deals and their contacts). */
export const MATCH_KEY_COLUMNS: ReadonlyArray<readonly [table: string, column: string]> = [
  ['lead_identities', 'hash'],
  ['deals', 'email_hash'],
  ['deals', 'external_hash'],
  ['deal_leads', 'email_hash'],
  ['deal_leads', 'external_hash'],
]
