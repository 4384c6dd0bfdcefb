// reports/solver.ts: expensive markov chains go to a worker thread (the TypeScript worker runs
// here through tsx, as the built one runs under node) and come back bit for bit as an inline
// solve; past the time budget the worker is stopped and the report is refused with a code.
import { getPriority } from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import { removalEffects, type ChainSolver, type RemovalEffects } from '../../../src/attribution/index.js'
import { ClError } from '../../../src/errors.js'
import { resetSolver, withSolver, workerSolves } from '../../../src/reports/solver.js'
import { chainOf, cycle } from '../attribution/chains.js'

afterEach(async () => {
  await resetSolver()
})

/** A cycle of m states with chords, so the block is tangled like real journeys. */
function tangled(m: number): ReturnType<typeof cycle> {
  const edges: Array<[number, number, number]> = []
  for (let i = 0; i < m; i++) {
    edges.push([i, (i + 1) % m, 0.6])
    if (i % 3 === 0) edges.push([i, (i * 7 + 11) % m, 0.2])
  }
  return chainOf(m, edges, [0, Math.floor(m / 2)])
}

describe('withSolver', () => {
  it('solves an expensive chain in the worker with exactly the inline figures', async () => {
    const chains = [tangled(180), tangled(240)]
    const priority = getPriority()
    const runs: RemovalEffects[][] = []
    const result = await withSolver({ budgetMs: 20_000, inlineUnits: 0 }, async (solve: ChainSolver) => {
      const pass = chains.map((c) => solve(c))
      runs.push(pass)
      return pass
    })
    // Pass one noted both chains (placeholders), pass two had the worker's answers.
    expect(runs.length).toBe(2)
    // The worker lowers its own thread's priority, not the process's.
    expect(getPriority()).toBe(priority)
    for (let i = 0; i < chains.length; i++) {
      const inline = removalEffects(chains[i])
      expect(result[i].conversion).toBe(inline.conversion)
      expect(Array.from(result[i].effects)).toEqual(Array.from(inline.effects))
    }
    // Solved chains are remembered: the same report needs one pass.
    runs.length = 0
    await withSolver({ budgetMs: 20_000, inlineUnits: 0 }, async (solve) => { runs.push(chains.map((c) => solve(c))); return null })
    expect(runs.length).toBe(1)
  })

  it('solves cheap chains inline, in one pass', async () => {
    let passes = 0
    const chain = tangled(60)
    const r = await withSolver({ budgetMs: 1000 }, async (solve) => { passes++; return solve(chain) })
    expect(passes).toBe(1)
    expect(Array.from(r.effects)).toEqual(Array.from(removalEffects(chain).effects))
  })

  it('refuses with CL_ERR_REPORT_TOO_COMPLEX once the budget is spent, and stops the solve', async () => {
    // ~4 s of solve on an idle core; the budget is a quarter of that.
    const chain = tangled(1600)
    const t = Date.now()
    const err = await withSolver({ budgetMs: 1000 }, async (solve) => solve(chain)).catch((e: unknown) => e)
    const took = Date.now() - t
    expect(err).toBeInstanceOf(ClError)
    expect(err).toMatchObject({ code: 'CL_ERR_REPORT_TOO_COMPLEX', status: 422 })
    expect((err as Error).message).toMatch(/coarser "by"/)
    expect(took).toBeGreaterThanOrEqual(1000)
    expect(took).toBeLessThan(1000 + 1000)
    // The worker was replaced: a later cheap-enough solve still goes through it.
    const small = tangled(150)
    const r = await withSolver({ budgetMs: 20_000, inlineUnits: 0 }, async (solve) => solve(small))
    expect(Array.from(r.effects)).toEqual(Array.from(removalEffects(small).effects))
    // The chain it gave up on is refused at once with no larger budget.
    const t2 = Date.now()
    await expect(withSolver({ budgetMs: 1000 }, async (solve) => solve(chain))).rejects.toMatchObject({ code: 'CL_ERR_REPORT_TOO_COMPLEX' })
    expect(Date.now() - t2).toBeLessThan(500)
  })

  it('queues solves one at a time, the wait counting against the budget', async () => {
    const slow = tangled(800)
    const quick = tangled(200)
    const first = withSolver({ budgetMs: 30_000, inlineUnits: 0 }, async (solve) => solve(slow))
    const t = Date.now()
    // Behind a solve of ~0.5 s, a 100 ms budget runs out in the queue.
    const second = await withSolver({ budgetMs: 100, inlineUnits: 0 }, async (solve) => solve(quick)).catch((e: unknown) => e)
    expect(second).toMatchObject({ code: 'CL_ERR_REPORT_TOO_COMPLEX' })
    expect(Date.now() - t).toBeLessThan(600)
    const r = await first
    expect(Array.from(r.effects)).toEqual(Array.from(removalEffects(slow).effects))
  })

  it('shares one solve between reports that need the same chain at the same time', async () => {
    const chain = tangled(600)
    const before = workerSolves()
    const reports = [1, 2, 3].map(() => withSolver({ budgetMs: 30_000, inlineUnits: 0 }, async (solve) => solve(chain)))
    const results = await Promise.all(reports)
    expect(workerSolves() - before).toBe(1)
    const inline = Array.from(removalEffects(chain).effects)
    for (const r of results) expect(Array.from(r.effects)).toEqual(inline)
  })

  it('keeps solving for a report with time left when another waiting one runs out', async () => {
    const chain = tangled(700)
    const inline = Array.from(removalEffects(chain).effects)
    const patient = withSolver({ budgetMs: 30_000, inlineUnits: 0 }, async (solve) => solve(chain))
    const hasty = await withSolver({ budgetMs: 50, inlineUnits: 0 }, async (solve) => solve(chain)).catch((e: unknown) => e)
    expect(hasty).toMatchObject({ code: 'CL_ERR_REPORT_TOO_COMPLEX' })
    expect(Array.from((await patient).effects)).toEqual(inline)
  })
})
