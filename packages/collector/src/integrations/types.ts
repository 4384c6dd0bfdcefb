// Shapes shared by the CRM connectors and the conversion destinations: the options they are
// configured with, how they call out over HTTP, and what became of one delivery.

/** Options as `crm add` / `destinations add` take them: `--name value`; a bare flag is true. */
export type RawOptions = Readonly<Record<string, string | boolean | undefined>>

/** The part of `fetch` adapters use; injected so tests point every adapter at a local stub. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<Response>

/** What an adapter's outbound calls run with. */
export interface IntegrationEnv {
  fetch: FetchLike
  /** Epoch ms; a clock the tests can set. */
  now(): number
  /** Aborted when the collector shuts down. */
  signal?: AbortSignal
}

/**
 * What became of one outbox row (a CRM write-back, a conversion) after one attempt. `retry` is a
 * passing failure (5xx, network, 429): `retryAfterMs` is the platform's Retry-After when it sent one.
 * `failed` is final (the platform refused the row); `reason` is shown to the user.
 */
export type DeliveryResult =
  | { status: 'sent' }
  | { status: 'retry'; retryAfterMs: number | null; reason: string }
  | { status: 'failed'; reason: string }
