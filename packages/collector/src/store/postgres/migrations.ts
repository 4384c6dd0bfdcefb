// PostgreSQL schema, as ordered versioned migrations (same versions and tables as SQLite, see
// ../sqlite/migrations.ts). APPEND new migrations; never edit one that may already have run. Times are epoch
// milliseconds (BIGINT), like the SQLite store, so both map through the same row helpers.

import { CRM_CONNECTIONS, CRM_OUTBOX, DATA_UPGRADES, DEAL_LEADS_ACCOUNTS, DESTINATIONS, DERIVED_VISITORS, DROPPED_EVENTS, LEADS_BY_ACCOUNT, TOUCH_FBP, type Migration } from '../sqlite/migrations.js'

export type { Migration } from '../sqlite/migrations.js'

const core: Migration = {
  version: 1,
  name: 'core',
  sql: `
CREATE TABLE sites (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  public_key    TEXT NOT NULL UNIQUE,
  origins       JSONB NOT NULL,
  cookie_domain TEXT,
  currency      TEXT NOT NULL,
  settings      JSONB NOT NULL,
  created_at    BIGINT NOT NULL
);

CREATE TABLE site_keys (
  key_id      TEXT PRIMARY KEY,
  site_id     TEXT NOT NULL REFERENCES sites(id),
  secret_hash TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE INDEX site_keys_site ON site_keys(site_id);

CREATE TABLE visitors (
  site_id    TEXT NOT NULL,
  id         TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen  BIGINT NOT NULL,
  PRIMARY KEY (site_id, id)
);

CREATE TABLE sessions (
  site_id    TEXT NOT NULL,
  id         TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  last_seen  BIGINT NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE INDEX sessions_visitor ON sessions(site_id, visitor_id);

-- Dedupe key (site, visitor, client event ID): see the SQLite migration for why.
CREATE TABLE events (
  site_id     TEXT NOT NULL,
  id          TEXT NOT NULL,
  type        TEXT NOT NULL,
  ts          BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  visitor_id  TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  url         TEXT,
  ref         TEXT,
  title       TEXT,
  name        TEXT,
  props       JSONB,
  traits      JSONB,
  PRIMARY KEY (site_id, visitor_id, id)
);

CREATE TABLE touches (
  site_id          TEXT NOT NULL,
  id               TEXT NOT NULL,
  visitor_id       TEXT NOT NULL,
  session_id       TEXT NOT NULL,
  ts               BIGINT NOT NULL,
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
);
-- No (site_id, ts) index on purpose: reports read whole journeys, which a primary-key range scan
-- of the site already yields grouped and ordered; the extra index cost ~35% of import speed.

CREATE TABLE leads (
  id             TEXT PRIMARY KEY,
  site_id        TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  identified_at  BIGINT NOT NULL,
  email_enc      TEXT,
  phone_enc      TEXT,
  external_id    TEXT,
  traits         JSONB NOT NULL,
  first_touch_id TEXT,
  first_touch_ts BIGINT
);
CREATE INDEX leads_site_identified ON leads(site_id, identified_at);

-- The unique key is what makes concurrent identifies of one email across processes end in one lead.
CREATE TABLE lead_identities (
  site_id    TEXT NOT NULL,
  kind       TEXT NOT NULL,
  hash       TEXT NOT NULL,
  lead_id    TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (site_id, kind, hash)
);
CREATE INDEX lead_identities_lead ON lead_identities(lead_id);

CREATE TABLE lead_visitors (
  site_id    TEXT NOT NULL,
  lead_id    TEXT NOT NULL,
  visitor_id TEXT NOT NULL,
  linked_at  BIGINT NOT NULL,
  PRIMARY KEY (site_id, lead_id, visitor_id)
);
CREATE INDEX lead_visitors_visitor ON lead_visitors(site_id, visitor_id);

CREATE TABLE lead_conflicts (
  id            BIGSERIAL PRIMARY KEY,
  site_id       TEXT NOT NULL,
  kept_lead_id  TEXT NOT NULL,
  other_lead_id TEXT NOT NULL,
  kind          TEXT NOT NULL,
  visitor_id    TEXT NOT NULL,
  created_at    BIGINT NOT NULL
);
CREATE INDEX lead_conflicts_site ON lead_conflicts(site_id, created_at);

CREATE TABLE rejected_events (
  id          BIGSERIAL PRIMARY KEY,
  site_id     TEXT,
  received_at BIGINT NOT NULL,
  code        TEXT NOT NULL,
  payload     TEXT NOT NULL
);
CREATE INDEX rejected_events_site ON rejected_events(site_id, received_at);

CREATE TABLE suppressions (
  site_id    TEXT NOT NULL,
  hash       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (site_id, hash)
);
`,
}

// Deals (with stage history), spend and exchange rates; see sqlite/migrations.ts for the comments.
const outcomes: Migration = {
  version: 2,
  name: 'deals, spend, fx rates',
  sql: `
CREATE TABLE deals (
  site_id           TEXT NOT NULL,
  id                TEXT NOT NULL,
  lead_id           TEXT,
  email_hash        TEXT,
  external_hash     TEXT,
  stage             TEXT NOT NULL,
  stage_ts          BIGINT NOT NULL,
  amount            DOUBLE PRECISION,
  original_amount   DOUBLE PRECISION,
  original_currency TEXT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE INDEX deals_lead ON deals(site_id, lead_id);
CREATE INDEX deals_pending_email ON deals(site_id, email_hash) WHERE lead_id IS NULL;
CREATE INDEX deals_pending_external ON deals(site_id, external_hash) WHERE lead_id IS NULL;

CREATE TABLE deal_stages (
  id          BIGSERIAL PRIMARY KEY,
  site_id     TEXT NOT NULL,
  deal_id     TEXT NOT NULL,
  stage       TEXT NOT NULL,
  crm_stage   TEXT NOT NULL,
  ts          BIGINT NOT NULL,
  amount      DOUBLE PRECISION,
  recorded_at BIGINT NOT NULL
);
CREATE INDEX deal_stages_deal ON deal_stages(site_id, deal_id, ts);

CREATE TABLE spend (
  site_id           TEXT NOT NULL,
  date              TEXT NOT NULL,
  source            TEXT NOT NULL,
  medium            TEXT NOT NULL,
  campaign          TEXT NOT NULL,
  amount            DOUBLE PRECISION NOT NULL,
  original_amount   DOUBLE PRECISION NOT NULL,
  original_currency TEXT,
  updated_at        BIGINT NOT NULL,
  PRIMARY KEY (site_id, date, source, medium, campaign)
);

CREATE TABLE fx_rates (
  site_id    TEXT NOT NULL,
  currency   TEXT NOT NULL,
  date       TEXT NOT NULL,
  rate       DOUBLE PRECISION NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (site_id, currency, date)
);
`,
}

// Sessions keyed by their visitor: see the SQLite migration of the same version.
const sessionsByVisitor: Migration = {
  version: 3,
  name: 'sessions keyed by visitor',
  sql: `
ALTER TABLE sessions DROP CONSTRAINT sessions_pkey;
ALTER TABLE sessions ADD PRIMARY KEY (site_id, visitor_id, id);
DROP INDEX sessions_visitor;
`,
}

// Versions 4 (visitors and sessions derived from events), 5 (dropped event counts), 6 (deal
// leads and accounts), 7 (leads by account), 8 (CRM connections and inbox), 9 (CRM write-back
// outbox), 10 (destinations and conversion outbox), 11 (keyed data upgrades) and 12 (Meta's
// browser ID on touches) are the SQLite store's (standard SQL).
export const POSTGRES_MIGRATIONS: readonly Migration[] = [core, outcomes, sessionsByVisitor, DERIVED_VISITORS, DROPPED_EVENTS, DEAL_LEADS_ACCOUNTS, LEADS_BY_ACCOUNT, CRM_CONNECTIONS, CRM_OUTBOX, DESTINATIONS, DATA_UPGRADES, TOUCH_FBP]
