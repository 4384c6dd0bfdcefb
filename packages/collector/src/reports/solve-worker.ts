// The worker thread of reports/solver.ts: solves the absorbing chains it is sent, in order, and
// posts each chain's removal effects as soon as they are known (the caller keeps what finished
// even when it stops the worker at the end of a report's time budget).

import { parentPort } from 'node:worker_threads'
import { AttributionError } from '../attribution/errors.js'
import { removalEffects } from '../attribution/models/absorbing.js'
import type { SolveReply, SolveRequest } from './solver.js'

const port = parentPort
if (!port) throw new Error('solve-worker runs in a worker thread')

port.on('message', ({ id, chains }: SolveRequest) => {
  let index = 0
  try {
    for (; index < chains.length; index++) {
      const result = removalEffects(chains[index])
      port.postMessage({ id, index, result } satisfies SolveReply, [result.effects.buffer as ArrayBuffer])
    }
  } catch (err) {
    const reason = err instanceof AttributionError ? err.reason : null
    port.postMessage({ id, error: { reason, message: err instanceof Error ? err.message : String(err) } } satisfies SolveReply)
  }
})
