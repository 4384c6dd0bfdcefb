// WAL checkpoints off the event loop. better-sqlite3 is synchronous, and with SQLite's automatic
// checkpoints a commit every ~1,000 pages also copies the WAL into the database file and fsyncs
// it, while the process parses no request. So the writing connection never checkpoints
// (wal_autocheckpoint = 0, set by the store): a worker thread with its own connection runs PASSIVE checkpoints,
// which never block the writer or readers, every `intervalMs`. Once a checkpoint has caught up,
// the writer's next transaction restarts the WAL from its beginning, so the file stays bounded.
// Should the worker fail, the writer takes checkpoints back (wal_autocheckpoint = 1000).

import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// CommonJS, evaluated in the worker: no file to resolve, whatever runs the package (node, tsx, vitest).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file)
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch { /* busy or closing: next time */ }
}, workerData.intervalMs)
parentPort.on('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.postMessage('stopped')
})
`

export class Checkpointer {
  private readonly worker: Worker
  private stopped = false

  /** `onFail`: the worker stopped, commits must checkpoint again (wal_autocheckpoint = 1000). */
  constructor(file: string, intervalMs: number, onFail: () => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, driver, intervalMs } })
    // Never keeps the process alive; close() stops it.
    this.worker.unref()
    const fallBack = () => {
      if (!this.stopped) onFail()
    }
    this.worker.on('error', fallBack)
    this.worker.on('exit', fallBack)
  }

  /** Stops the worker and closes its connection; the caller may then checkpoint and close. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve())
      this.worker.once('exit', () => resolve())
      this.worker.postMessage('stop')
    })
    await this.worker.terminate()
  }
}
