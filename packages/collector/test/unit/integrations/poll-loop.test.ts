import { describe, expect, it } from 'vitest'
import { PollLoop } from '../../../src/integrations/poll-loop.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('PollLoop', () => {
  it('runs one round at a time, again at once when woken during one, and none after stop', async () => {
    const rounds: number[] = []
    let inFlight = 0
    let release: () => void = () => {}
    const loop = new PollLoop(async () => {
      inFlight++
      expect(inFlight).toBe(1)
      rounds.push(Date.now())
      if (rounds.length === 1) await new Promise<void>((r) => { release = r })
      inFlight--
    }, 60_000, () => {})
    loop.start()
    await sleep(20)
    expect(rounds).toHaveLength(1)
    loop.wake()
    loop.wake()
    await sleep(20)
    // Woken twice while the first round ran: one more round, right after it, not two.
    expect(rounds).toHaveLength(1)
    release()
    await sleep(20)
    expect(rounds).toHaveLength(2)
    await loop.stop()
    loop.wake()
    await sleep(20)
    expect(rounds).toHaveLength(2)
  })

  it('stop waits for the round in flight; a failed round is reported and the loop goes on', async () => {
    const errors: unknown[] = []
    let n = 0
    let ended = false
    const loop = new PollLoop(async () => {
      n++
      if (n === 1) throw new Error('first round fails')
      await sleep(30)
      ended = true
    }, 5, (err) => errors.push(err))
    loop.start()
    await sleep(15)
    expect(errors).toHaveLength(1)
    expect(n).toBe(2)
    await loop.stop()
    expect(ended).toBe(true)
    expect(loop.isStopped).toBe(true)
  })
})
