// Token buckets per client IP and per key. In-memory and per process: with several collectors
// behind a load balancer each enforces its share, which is enough to stop a runaway client.

export interface BucketOptions {
  /** Tokens added per second; 0 disables limiting. */
  perSecond: number
  burst: number
  /** Most buckets kept; the least recently refilled are dropped first. */
  maxKeys?: number
}

interface Bucket {
  tokens: number
  updatedAt: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly maxKeys: number

  constructor(private readonly options: BucketOptions, private readonly now: () => number = Date.now) {
    this.maxKeys = options.maxKeys ?? 100_000
  }

  /** 0 when allowed (a token is taken), else the seconds to wait before retrying. */
  take(key: string): number {
    const { perSecond, burst } = this.options
    if (perSecond <= 0) return 0
    const now = this.now()
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evictOldest()
      bucket = { tokens: Math.max(burst, 1), updatedAt: now }
    } else {
      this.buckets.delete(key) // re-insert below so Map order tracks recency
      bucket.tokens = Math.min(Math.max(burst, 1), bucket.tokens + ((now - bucket.updatedAt) / 1000) * perSecond)
      bucket.updatedAt = now
    }
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond))
  }

  /** Seconds until `key` has a token again (0 = it has one now), without taking one. */
  waitFor(key: string): number {
    const { perSecond, burst } = this.options
    const bucket = this.buckets.get(key)
    if (perSecond <= 0 || bucket === undefined) return 0
    const tokens = Math.min(Math.max(burst, 1), bucket.tokens + ((this.now() - bucket.updatedAt) / 1000) * perSecond)
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / perSecond))
  }

  private evictOldest(): void {
    const drop = Math.ceil(this.maxKeys / 10)
    let i = 0
    for (const key of this.buckets.keys()) {
      if (i++ >= drop) break
      this.buckets.delete(key)
    }
  }
}
