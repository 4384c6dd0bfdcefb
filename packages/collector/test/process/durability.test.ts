// An event is acknowledged only after it is durably written. Kill -9 the real server
// under load, restart it on the same data directory, and every acknowledged event is there once.

import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store/index.js'
import { parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'
import { BROWSER_UA, pageEvent, tempDir, visitorId } from '../http/helpers.js'

const dir = tempDir('closeloop-durability-')
const started: ServeProcess[] = []
afterAll(() => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

describe('durability', () => {
  it('keeps every acknowledged event exactly once across SIGKILL and restart', async () => {
    const added = await runCli(['sites', 'add', '--data', dir, '--name', 'Durable', '--origin', 'https://durable.example'])
    expect(added.code, added.stderr).toBe(0)
    const { pk, sk } = parseKeys(added.stdout)

    const first = await startServe(['--data', dir])
    started.push(first)
    const acked = new Map<string, { id: string; vid: string }>()
    const batches: Array<Array<Record<string, unknown>>> = []
    let killed = false
    const vids = Array.from({ length: 8 }, () => visitorId())

    const worker = async (w: number): Promise<void> => {
      while (!killed) {
        const events = Array.from({ length: 5 }, () => pageEvent(vids[w]))
        batches.push(events)
        try {
          const res = await fetch(`${first.url}/v1/collect`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
            body: JSON.stringify({ site: pk, sentAt: Date.now(), events }),
          })
          if (res.status !== 200) continue
          const body = (await res.json()) as { accepted: number; duplicates: number; rejected: unknown[] }
          if (body.accepted + body.duplicates === events.length) for (const e of events) acked.set(String(e.id), { id: String(e.id), vid: vids[w] })
        } catch {
          // Connection reset by the kill: not acknowledged, so no promise was made.
        }
      }
    }
    const workers = vids.map((_, w) => worker(w))
    while (acked.size < 500) await new Promise((r) => setTimeout(r, 20))
    first.child.kill('SIGKILL')
    killed = true
    await Promise.all(workers)
    expect(await first.exited).toBeNull()
    const ackedCount = acked.size
    expect(ackedCount).toBeGreaterThanOrEqual(500)

    // Restart on the same files: replaying the acknowledged events must find each one stored.
    const second = await startServe(['--data', dir])
    started.push(second)
    let replayAccepted = 0
    for (const events of batches.slice(0, 400)) {
      const res = await fetch(`${second.url}/v1/collect`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify({ site: pk, sentAt: Date.now(), events: events.filter((e) => acked.has(String(e.id))) }),
      })
      const body = (await res.json()) as { accepted: number; duplicates: number }
      replayAccepted += body.accepted
    }
    expect(replayAccepted).toBe(0)
    const health = await fetch(`${second.url}/v1/privacy/export?visitorId=${vids[0]}`, { headers: { authorization: `Bearer ${sk}` } })
    expect(health.status).toBe(200)

    // Graceful stop, then count rows directly in the store.
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    const store = await openStore({ dataDir: dir })
    try {
      const site = await store.getSiteByPublicKey(pk)
      expect(site).not.toBeNull()
      const seen = new Map<string, number>()
      for (const vid of vids) {
        const held = await store.exportPerson(site?.id ?? '', { visitorId: vid })
        for (const e of held.events) seen.set(String(e.id), (seen.get(String(e.id)) ?? 0) + 1)
      }
      const missing = [...acked.keys()].filter((id) => !seen.has(id))
      expect(missing).toEqual([])
      expect([...seen.values()].every((n) => n === 1)).toBe(true)
    } finally {
      await store.close()
    }
  }, 120_000)
})
