// `closeloop backup` and `closeloop restore` as real processes beside a real `serve` under load:
// the online copy holds every event acknowledged before it began, a quiescent copy restores to a
// store whose reports equal the source's, and broken files, occupied folders and unwritable paths
// are refused with codes, leaving nothing half-written behind.

import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SECRET_KEY_FILE } from '../../src/identity/crypto.js'
import { openStore, SQLITE_FILE } from '../../src/store/index.js'
import { expectFailure, parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'
import { BROWSER_UA, pageEvent, tempDir, visitorId } from '../http/helpers.js'

const root = tempDir('closeloop-backup-')
const data = join(root, 'data')
const started: ServeProcess[] = []
afterAll(() => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL')
  rmSync(root, { recursive: true, force: true })
})

describe('backup and restore', () => {
  it('copies a live store consistently and restores it with identical reports', async () => {
    const added = await runCli(['sites', 'add', '--data', data, '--name', 'Shop', '--origin', 'https://shop.example'])
    expect(added.code, added.stderr).toBe(0)
    const { pk, sk } = parseKeys(added.stdout)
    const serve = await startServe(['--data', data])
    started.push(serve)

    // Load: visitors arriving from campaigns, some identified, while the backup runs.
    const acked = new Set<string>()
    let stop = false
    const vids = Array.from({ length: 6 }, () => visitorId())
    const load = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const events = Array.from({ length: 10 }, () => pageEvent(vids[w], { touch: { source: ['google', 'bing', 'newsletter'][i % 3], medium: i % 3 === 2 ? 'email' : 'cpc', campaign: `c${i % 4}` } }))
        const res = await fetch(`${serve.url}/v1/collect`, { method: 'POST', headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA }, body: JSON.stringify({ site: pk, sentAt: Date.now(), events }) })
        const body = (await res.json()) as { accepted: number; duplicates: number }
        if (res.status === 200 && body.accepted + body.duplicates === events.length) for (const e of events) acked.add(String(e.id))
        if (i === 3) {
          await fetch(`${serve.url}/v1/identify`, { method: 'POST', headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' }, body: JSON.stringify({ visitorId: vids[w], email: `buyer${w}@corp.example` }) })
          await fetch(`${serve.url}/v1/deals`, { method: 'POST', headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' }, body: JSON.stringify({ dealId: `d${w}`, email: `buyer${w}@corp.example`, stage: 'won', amount: 1000 * (w + 1) }) })
        }
      }
    }
    const workers = vids.map((_, w) => load(w))
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 20))
    const before = new Set(acked)
    const live = join(root, 'live.clbak')
    const t = Date.now()
    const b1 = await runCli(['backup', '--data', data, '--to', live])
    expect(b1.code, b1.stderr).toBe(0)
    expect(b1.stdout).toMatch(/^Backup written to .*live\.clbak \([\d.]+ MB database, schema \d+, sha256 [0-9a-f]{16}…\) in [\d.]+ s\.\n/)
    const during = acked.size
    stop = true
    await Promise.all(workers)
    expect(during, 'the load went on while the backup ran').toBeGreaterThan(before.size)
    expect(statSync(live).mode & 0o777).toBe(0o600)
    expect(readdirSync(root).filter((f) => f.includes('partial'))).toEqual([])

    // The live copy: everything acknowledged before it began is in it.
    const r1 = await runCli(['restore', '--from', live, '--data', join(root, 'r1')])
    expect(r1.code, r1.stderr).toBe(0)
    const restored = await openStore({ dataDir: join(root, 'r1') })
    const site = (await restored.listSites())[0]
    const ids = new Set<string>()
    for (const vid of vids) for (const e of (await restored.exportPerson(site.id, { visitorId: vid })).events) ids.add(String(e.id))
    await restored.close()
    for (const id of before) expect(ids.has(id), `event ${id} acknowledged before the backup`).toBe(true)
    expect(ids.size).toBeLessThanOrEqual(acked.size)
    expect(readFileSync(join(root, 'r1', SECRET_KEY_FILE), 'utf8')).toBe(readFileSync(join(data, SECRET_KEY_FILE), 'utf8'))

    // A quiescent copy: the same reports as the source, every model.
    const quiet = join(root, 'quiet.clbak')
    expect((await runCli(['backup', '--data', data, '--to', quiet])).code).toBe(0)
    expect((await runCli(['restore', '--from', quiet, '--data', join(root, 'r2')])).code).toBe(0)
    for (const by of ['channel', 'campaign']) {
      const report = (dir: string) => runCli(['report', '--data', dir, '--site', 'Shop', '--model', 'all', '--by', by, '--conversion', 'won', '--format', 'json'])
      const [a, b] = [await report(data), await report(join(root, 'r2'))]
      expect(a.code, a.stderr).toBe(0)
      expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout))
      expect(JSON.parse(a.stdout).totals?.revenue ?? JSON.parse(a.stdout).rows?.length).toBeTruthy()
    }
    expect(Date.now() - t).toBeLessThan(60_000)
  }, 90_000)

  it('refuses broken backups, occupied folders and unwritable paths with codes', async () => {
    const good = join(root, 'quiet.clbak')
    const bytes = readFileSync(good)
    // Restoring over the store that is there needs --force.
    expectFailure(await runCli(['restore', '--from', good, '--data', join(root, 'r2')]), 'restore', 'CL_ERR_STORE_NOT_EMPTY')
    expect((await runCli(['restore', '--from', good, '--data', join(root, 'r2'), '--force'])).code).toBe(0)

    const corrupt = join(root, 'corrupt.clbak')
    const flipped = Buffer.from(bytes)
    flipped[flipped.length - 5000] ^= 0xff
    writeFileSync(corrupt, flipped)
    expect(expectFailure(await runCli(['restore', '--from', corrupt, '--data', join(root, 'r3')]), 'restore', 'CL_ERR_BAD_BACKUP').message).toMatch(/checksum/)
    const truncated = join(root, 'truncated.clbak')
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100))
    expect(expectFailure(await runCli(['restore', '--from', truncated, '--data', join(root, 'r3')]), 'restore', 'CL_ERR_BAD_BACKUP').message).toMatch(/truncated/)
    const foreign = join(root, 'foreign.clbak')
    writeFileSync(foreign, 'SQLite format 3\u0000 not really')
    expectFailure(await runCli(['restore', '--from', foreign, '--data', join(root, 'r3')]), 'restore', 'CL_ERR_BAD_BACKUP')
    // Nothing of the failed restores was left in place.
    expect(existsSync(join(root, 'r3', SQLITE_FILE))).toBe(false)
    expect(existsSync(join(root, 'r3')) ? readdirSync(join(root, 'r3')) : []).toEqual([])

    // Unwritable targets: a folder that does not exist, a "folder" that is a file.
    expectFailure(await runCli(['backup', '--data', data, '--to', join(root, 'missing', 'x.clbak')]), 'backup', 'CL_ERR_BACKUP_FAILED')
    expectFailure(await runCli(['backup', '--data', data, '--to', join(good, 'x.clbak')]), 'backup', 'CL_ERR_BACKUP_FAILED')
    expect(readdirSync(root).filter((f) => f.includes('partial'))).toEqual([])
    expectFailure(await runCli(['backup', '--data', join(root, 'nothing-here'), '--to', join(root, 'y.clbak')]), 'backup', 'CL_ERR_NO_STORE')
  })
})
