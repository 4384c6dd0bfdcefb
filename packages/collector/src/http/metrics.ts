// Prometheus text exposition, hand-written: a few counters and histograms do not justify a library.

type Labels = Record<string, string>

const escapeValue = (v: string): string => (/[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v)

// Runs several times a request (it is the series' key): no regex replaces for ordinary values.
function labelText(labels: Labels): string {
  let text = ''
  for (const k in labels) text += `${text === '' ? '{' : ','}${k}="${escapeValue(labels[k])}"`
  return text === '' ? '' : text + '}'
}

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>()
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels)
    const entry = this.values.get(key)
    if (entry) entry.value += by
    else this.values.set(key, { labels, value: by })
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    if (this.values.size === 0) lines.push(`${this.name} 0`)
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`)
    return lines.join('\n')
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>()
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels)
    let s = this.series.get(key)
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(key, s)
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++
    s.sum += value
    s.count++
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(le) })} ${s.counts[i]}`))
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`)
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`)
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`)
    }
    return lines.join('\n')
  }
}

export class Metrics {
  readonly eventsAccepted = new Counter('closeloop_events_accepted_total', 'Events durably stored')
  readonly eventsDuplicate = new Counter('closeloop_events_duplicate_total', 'Events already stored (retries)')
  readonly eventsRejected = new Counter('closeloop_events_rejected_total', 'Events rejected, by code')
  readonly eventsBot = new Counter('closeloop_events_bot_total', 'Events from bots (counted, not stored)')
  readonly eventsSuppressed = new Counter('closeloop_events_suppressed_total', 'Events of erased persons, dropped')
  readonly eventsDropped = new Counter(
    'closeloop_events_dropped_total',
    'Events not stored, by reason (bot, unknown_key, origin, suppressed, invalid) and site (when known)',
  )
  readonly identifies = new Counter('closeloop_identify_total', 'Identify calls, by created')
  readonly crmEvents = new Counter('closeloop_crm_events_total', 'CRM webhook changes received, by kind and outcome (stored, duplicate)')
  readonly crmDeals = new Counter('closeloop_crm_deals_total', 'CRM deals written from webhooks and pulls, by kind')
  readonly crmErrors = new Counter('closeloop_crm_errors_total', 'CRM failures (API calls, rejected deals), by kind and whether retried')
  readonly crmWriteBacks = new Counter('closeloop_crm_writebacks_total', 'CRM write-back attempts, by kind, object (contact, deal) and outcome (sent, retry, failed)')
  readonly conversionDeliveries = new Counter('closeloop_conversion_deliveries_total', 'Conversion rows settled by this process\'s delivery worker, by destination kind and outcome (sent, retry, failed)')
  readonly feedDownloads = new Counter('closeloop_feed_downloads_total', 'Conversion feeds downloaded by ad platforms, by kind')
  readonly requestDuration = new Histogram(
    'closeloop_http_request_duration_seconds',
    'Request latency by route and status class',
    [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  )
  readonly ingestBatchSize = new Histogram(
    'closeloop_ingest_batch_events',
    'Events per store commit (group commit size when the store reports it, else per request)',
    [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000, 50000],
  )

  render(): string {
    return [
      this.eventsAccepted, this.eventsDuplicate, this.eventsRejected, this.eventsBot, this.eventsSuppressed, this.eventsDropped,
      this.identifies, this.crmEvents, this.crmDeals, this.crmErrors, this.crmWriteBacks, this.conversionDeliveries, this.feedDownloads, this.requestDuration, this.ingestBatchSize,
    ].map((m) => m.render()).join('\n') + '\n'
  }
}
