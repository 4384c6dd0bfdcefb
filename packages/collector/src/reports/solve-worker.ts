// The worker thread of reports/solver.ts: solves each absorbing chain it is sent and posts back
// its removal effects (or the error, with the engine's reason).

import { platform, setPriority } from 'node:os'
import { parentPort } from 'node:worker_threads'
import { AttributionError } from '../attribution/errors.js'
import { removalEffects } from '../attribution/models/absorbing.js'
import type { SolveReply, SolveRequest } from './solver.js'

const port = parentPort
if (!port) throw new Error('solve-worker runs in a worker thread')

// Serving comes first: on a busy machine the request thread gets the CPU before a solve does.
// On Linux the nice value is per thread, and 0 names the calling one: this thread only.
if (platform() === 'linux') {
  try {
    setPriority(0, 10)
  } catch {
    // Not allowed here: the solve runs at the process's priority.
  }
}

port.on('message', ({ id, chain }: SolveRequest) => {
  try {
    const result = removalEffects(chain)
    port.postMessage({ id, result } satisfies SolveReply, [result.effects.buffer as ArrayBuffer])
  } catch (err) {
    const reason = err instanceof AttributionError ? err.reason : null
    port.postMessage({ id, error: { reason, message: err instanceof Error ? err.message : String(err) } } satisfies SolveReply)
  }
})
