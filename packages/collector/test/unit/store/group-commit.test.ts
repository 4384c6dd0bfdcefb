// GroupCommit's ordering rules with a sync that the test completes by hand: the next transaction
// runs while a sync is in flight, a job is answered only after a sync that began after its
// commit, and a failed sync fails every later one.
import { describe, expect, it } from 'vitest'
import { GroupCommit, type Job } from '../../../src/store/group-commit.js'

function harness() {
  const log: string[] = []
  const syncs: Array<{ resolve: () => void; reject: (e: unknown) => void }> = []
  let commits = 0
  const gc = new GroupCommit<() => unknown>(
    async (jobs: Array<Job<() => unknown>>) => {
      commits++
      for (const job of jobs) job.result = job.run()
      log.push(`commit ${commits} (${jobs.length})`)
    },
    {
      maxPendingWeight: 1000,
      sync: () =>
        new Promise<void>((resolve, reject) => {
          log.push(`sync ${syncs.length + 1} starts after commit ${commits}`)
          syncs.push({ resolve, reject })
        }),
    },
  )
  const turn = () => new Promise((r) => setImmediate(r))
  return { gc, log, syncs, turn }
}

describe('GroupCommit with a sync', () => {
  it('commits the next batch while a sync runs, and answers each batch after a sync begun after its commit', async () => {
    const { gc, log, syncs, turn } = harness()
    const answered: string[] = []
    const a = gc.submit<string>(() => 'a').then((v) => answered.push(v))
    await turn()
    await turn()
    expect(log).toEqual(['commit 1 (1)', 'sync 1 starts after commit 1'])
    // Two more batches commit while sync 1 is still running; they share one queued sync.
    const b = gc.submit<string>(() => 'b').then((v) => answered.push(v))
    await turn()
    const c = gc.submit<string>(() => 'c').then((v) => answered.push(v))
    await turn()
    await turn()
    expect(log).toEqual(['commit 1 (1)', 'sync 1 starts after commit 1', 'commit 2 (1)', 'commit 3 (1)'])
    expect(answered).toEqual([])
    syncs[0].resolve()
    await a
    await turn()
    // Sync 1 began before commits 2 and 3: they wait for sync 2.
    expect(answered).toEqual(['a'])
    expect(log.at(-1)).toBe('sync 2 starts after commit 3')
    syncs[1].resolve()
    await Promise.all([b, c])
    expect(answered).toEqual(['a', 'b', 'c'])
    expect(syncs).toHaveLength(2)
    await gc.drain()
  })

  it('fails the batches behind a failed sync, and every later one', async () => {
    const { gc, syncs, turn } = harness()
    const a = gc.submit<string>(() => 'a')
    await turn()
    await turn()
    const b = gc.submit<string>(() => 'b')
    await turn()
    await turn()
    syncs[0].reject(new Error('EIO'))
    await expect(a).rejects.toThrow('EIO')
    await expect(b).rejects.toThrow('EIO')
    // The commit ran, but nothing is acknowledged again on this store.
    await expect(gc.submit<string>(() => 'c')).rejects.toThrow('EIO')
    expect(syncs).toHaveLength(1)
  })

  it('drain() waits for the syncs still in flight', async () => {
    const { gc, syncs, turn } = harness()
    let done = false
    const a = gc.submit<string>(() => 'a').then(() => (done = true))
    await turn()
    await turn()
    let drained = false
    const d = gc.drain().then(() => (drained = true))
    await turn()
    expect(drained).toBe(false)
    syncs[0].resolve()
    await Promise.all([a, d])
    expect(done && drained).toBe(true)
  })
})

describe('GroupCommit with a linger window', () => {
  it('waits lingerMs for more requests before committing, unless the batch is already heavy', async () => {
    const batches: number[] = []
    const gc = new GroupCommit<() => unknown>(async (jobs) => {
      batches.push(jobs.length)
      for (const job of jobs) job.result = job.run()
    }, { maxPendingWeight: 10, lingerMs: 300 })
    const first = gc.submit(() => 1)
    await new Promise((r) => setTimeout(r, 10))
    const second = gc.submit(() => 2)
    expect(await Promise.all([first, second])).toEqual([1, 2])
    expect(batches).toEqual([2])
    // Past maxPendingWeight the batch goes at once, without waiting out the window.
    const t = performance.now()
    await gc.submit(() => 3, 10)
    expect(performance.now() - t).toBeLessThan(300)
    expect(batches).toEqual([2, 1])
  })
})
