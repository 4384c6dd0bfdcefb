// The schedule of a background worker in `serve` (CRM inbox and write-backs, conversion delivery):
// one round at a time, the next one pollMs after the last ended, or at once when woken; the timer
// never keeps the process alive, and stop() waits for the round in flight.

export class PollLoop {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private again = false
  private stopped = false

  constructor(
    private readonly round: () => Promise<void>,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  get isStopped(): boolean {
    return this.stopped
  }

  start(): void {
    this.schedule(0)
  }

  /** Work arrived: run a round now, or right after the one in flight. */
  wake(): void {
    if (this.stopped) return
    if (this.running) this.again = true
    else this.schedule(0)
  }

  /** No more rounds; resolves when the one in flight (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.timer = null; this.tick() }, ms)
    this.timer.unref()
  }

  private tick(): void {
    if (this.running || this.stopped) return
    this.running = this.round().catch(this.onError).finally(() => {
      this.running = null
      const next = this.again ? 0 : this.pollMs
      this.again = false
      this.schedule(next)
    })
  }
}
