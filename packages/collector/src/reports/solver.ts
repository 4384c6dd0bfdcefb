// Markov's exact solve, kept off the event loop. The solve is cubic inside large cycles of states,
// and anyone with a site's publishable key can make such cycles (one visitor through thousands of
// invented campaigns): run in the request's thread, it would stop the collector from answering
// anything, /healthz included, for seconds to minutes.
//
// The engine stays synchronous and pure; it takes a pluggable chain solver. A report runs with a
// solver that solves cheap chains inline (chainCost under INLINE_UNITS per report, ~20 ms) and
// answers each expensive one with a placeholder while noting it. The noted chains are then solved
// in one worker thread, and the report runs again with their answers: the same function on the
// same arrays, so the figures are exactly those of an inline solve. Answers are kept in a small
// LRU keyed by a hash of the chain, so reopening the report does not solve again, and reports
// that need the same chain at the same time (the dashboard asks for several) share one solve.
//
// One solve at a time (a queue): the collector shares few cores with its own ingestion. The
// report's time budget runs from its start, queue wait included; past it the report answers
// CL_ERR_REPORT_TOO_COMPLEX, and the worker is stopped if no other report waits for its solve.

import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { AttributionError, chainCost, checkSolvable, removalEffects, type AbsorbingChain, type ChainSolver, type RemovalEffects } from '../attribution/index.js'
import { clError, type ClError } from '../errors.js'

/** Solve work (chainCost units, ~1 ns each) a report may do in the event loop: ~20 ms. */
export const INLINE_UNITS = 20_000_000

/** Below this a chain is solved inline without hashing it (channels, sources: microseconds). */
const TINY_UNITS = 100_000

export interface SolveOptions {
  /** Wall time a report may take, solves and queue wait included. */
  budgetMs: number
  /** Solve work done inline per report (default INLINE_UNITS); tests lower it. */
  inlineUnits?: number
}

/** What the worker is sent, and answers. */
export interface SolveRequest {
  id: number
  chain: AbsorbingChain
}

export type SolveReply =
  | { id: number; result: RemovalEffects }
  | { id: number; error: { reason: AttributionError['reason'] | null; message: string } }

class Lru<V> {
  private readonly map = new Map<string, V>()
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key)
    if (v !== undefined) { this.map.delete(key); this.map.set(key, v) }
    return v
  }
  set(key: string, v: V): void {
    this.map.delete(key)
    this.map.set(key, v)
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string)
  }
  clear(): void {
    this.map.clear()
  }
}

const solvedChains = new Lru<RemovalEffects>(32)
/**
 * Chains a worker was stopped on, with the time they had been given: a report of the same data
 * with no more time is refused at once instead of keeping a core busy for its whole budget again.
 */
const gaveUp = new Lru<number>(64)

/** Identifies a chain by its content (every array the solve reads). */
export function chainHash(chain: AbsorbingChain): string {
  const h = createHash('sha256')
  h.update(Int32Array.of(chain.n))
  for (const a of [chain.rowPtr, chain.col, chain.prob, chain.toConversion, chain.start]) {
    h.update(Int32Array.of(a.length))
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  }
  return h.digest('hex')
}

export function tooComplex(budgetMs: number): ClError {
  return clError('REPORT_TOO_COMPLEX', `the markov model of this report needs more than the ${budgetMs} ms budget to solve — use a coarser "by" (channel or source) or a narrower from/to window`)
}

/**
 * Runs a report whose engine calls go through `report(solver)`; expensive markov chains are solved
 * in the worker and the report run again. `report` must be repeatable (it reads stored data).
 */
export async function withSolver<R>(opts: SolveOptions, report: (solver: ChainSolver) => Promise<R>): Promise<R> {
  const deadline = Date.now() + opts.budgetMs
  const limit = opts.inlineUnits ?? INLINE_UNITS
  const known = new Map<string, RemovalEffects>()
  for (let pass = 0; pass < 3; pass++) {
    const pending = new Map<string, AbsorbingChain>()
    let inline = 0
    const solver: ChainSolver = (chain) => {
      const cost = chainCost(chain)
      checkSolvable(cost)
      if (cost.units < TINY_UNITS) return removalEffects(chain)
      const key = chainHash(chain)
      const hit = known.get(key) ?? solvedChains.get(key)
      if (hit) return hit
      if (inline + cost.units <= limit) {
        inline += cost.units
        const r = removalEffects(chain)
        known.set(key, r)
        return r
      }
      pending.set(key, chain)
      // Any answer will do: this pass's figures are discarded.
      return { conversion: 1, effects: new Float64Array(chain.n).fill(1) }
    }
    const result = await report(solver)
    if (pending.size === 0) return result
    const keys = [...pending.keys()]
    const remaining = deadline - Date.now()
    // "No more time": within a tenth of what it had, timers and passes vary by a few milliseconds.
    if (remaining <= 0 || keys.some((k) => remaining <= (gaveUp.get(k) ?? -1) * 1.1)) throw tooComplex(opts.budgetMs)
    const settled = await Promise.allSettled(keys.map((k) => offLoop.solve(k, pending.get(k) as AbsorbingChain, deadline)))
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        solvedChains.set(keys[i], r.value)
        known.set(keys[i], r.value)
      } else if (r.reason instanceof OutOfTime) {
        gaveUp.set(keys[i], Math.max(gaveUp.get(keys[i]) ?? 0, remaining))
      }
    })
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason instanceof OutOfTime ? tooComplex(opts.budgetMs) : failed.reason
  }
  throw new AttributionError('internal', 'markov: chains still unsolved after three passes')
}

class OutOfTime extends Error {
  constructor() {
    super('solve out of time')
  }
}

/** A report waiting for a chain, until its own deadline. */
interface Waiter {
  resolve: (r: RemovalEffects) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/** One chain to solve; reports that need the same chain wait on the same job. */
interface Job {
  key: string
  chain: AbsorbingChain
  waiters: Set<Waiter>
}

// Node cannot run a .ts worker by itself, and in Node 20 loader hooks (`--import tsx`) do not reach
// a worker's entry: from the sources (tests, tsx), a CommonJS bootstrap registers tsx's require
// hook and then loads the TypeScript worker. Built, the worker is the .js beside this file.
const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads')
require(workerData.tsx).register()
require(workerData.file)
`

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./solve-worker.js', import.meta.url))
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api')
  return new Worker(TS_BOOTSTRAP, { eval: true, workerData: { tsx, file: fileURLToPath(new URL('./solve-worker.ts', import.meta.url)) } })
}

/**
 * One worker thread, one job at a time. A job ends when it is solved or when its last waiter's
 * deadline passes; a running one then stops the worker (a solve cannot be interrupted otherwise)
 * and a new worker starts for the next job.
 */
class OffLoop {
  private worker: Worker | null = null
  private running: { id: number; job: Job } | null = null
  private readonly queue: Job[] = []
  private readonly jobs = new Map<string, Job>()
  private nextId = 1
  /** Chains sent to a worker so far. */
  sent = 0

  solve(key: string, chain: AbsorbingChain, deadline: number): Promise<RemovalEffects> {
    let job = this.jobs.get(key)
    if (!job) {
      job = { key, chain, waiters: new Set() }
      this.jobs.set(key, job)
      this.queue.push(job)
    }
    const j = job
    const promise = new Promise<RemovalEffects>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: setTimeout(() => this.expire(j, waiter), Math.max(0, deadline - Date.now())) }
      j.waiters.add(waiter)
    })
    this.next()
    return promise
  }

  private expire(job: Job, waiter: Waiter): void {
    job.waiters.delete(waiter)
    waiter.reject(new OutOfTime())
    if (job.waiters.size > 0) return
    this.jobs.delete(job.key)
    const queued = this.queue.indexOf(job)
    if (queued >= 0) this.queue.splice(queued, 1)
    if (this.running?.job !== job) return
    const worker = this.worker
    this.worker = null
    this.running = null
    void worker?.terminate()
    // The next report should not wait for a worker to start: one starts now, idle.
    this.worker = this.spawn()
    this.next()
  }

  /** Ends the running job: every waiter gets `outcome`. */
  private settle(outcome: { result: RemovalEffects } | { error: Error }): void {
    const running = this.running
    if (!running) return
    this.running = null
    this.jobs.delete(running.job.key)
    for (const w of running.job.waiters) {
      clearTimeout(w.timer)
      if ('result' in outcome) w.resolve(outcome.result)
      else w.reject(outcome.error)
    }
    this.next()
  }

  private spawn(): Worker {
    const worker = startWorker()
    worker.on('message', (reply: SolveReply) => {
      if (worker !== this.worker || this.running?.id !== reply.id) return
      if ('result' in reply) this.settle({ result: reply.result })
      else this.settle({ error: reply.error.reason ? new AttributionError(reply.error.reason, reply.error.message) : new Error(reply.error.message) })
    })
    const fail = (err: Error) => {
      if (this.worker !== worker) return
      this.worker = null
      if (this.running) this.settle({ error: err })
      else this.next()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`markov solve worker exited (${code})`)))
    return worker
  }

  private next(): void {
    if (this.running) return
    const job = this.queue.shift()
    if (!job) {
      // Idle: the worker must not keep a finished CLI process alive.
      this.worker?.unref()
      return
    }
    this.worker ??= this.spawn()
    this.worker.ref()
    const id = this.nextId++
    this.running = { id, job }
    this.sent++
    this.worker.postMessage({ id, chain: job.chain } satisfies SolveRequest)
  }

  /** Stops the worker (tests; the process exits without it otherwise). */
  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    await worker?.terminate()
  }
}

const offLoop = new OffLoop()

/** How many chains were sent to the worker thread (tests). */
export function workerSolves(): number {
  return offLoop.sent
}

/** Forgets solved chains and stops the worker (tests). */
export async function resetSolver(): Promise<void> {
  solvedChains.clear()
  gaveUp.clear()
  await offLoop.close()
}
