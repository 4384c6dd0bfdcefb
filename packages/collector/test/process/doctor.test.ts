// `closeloop doctor` as a real process: all clear on a healthy store with a running serve, and each
// broken condition it claims to detect reported in words, with exit 1 for failures.

import Database from 'better-sqlite3'
import { execFileSync } from 'node:child_process'
import { chmodSync, closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SECRET_KEY_FILE } from '../../src/identity/crypto.js'
import { SQLITE_FILE } from '../../src/store/index.js'
import { parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'
import { BROWSER_UA, pageEvent, tempDir, visitorId } from '../http/helpers.js'

const root = tempDir('closeloop-doctor-')
const started: ServeProcess[] = []
afterAll(() => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL')
  rmSync(root, { recursive: true, force: true })
})

/** A 64 MB tmpfs for a nearly full disk, where this machine lets us mount one (root with CAP_SYS_ADMIN). */
function smallDisk(): string | null {
  const dir = join(root, 'small-disk')
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' })
    return dir
  } catch {
    console.info('doctor: cannot mount a tmpfs here, the low-disk case is not run')
    return null
  }
}
const small = smallDisk()
afterAll(() => { if (small !== null) execFileSync('umount', [small], { stdio: 'ignore' }) })

const line = (out: string, level: 'ok  ' | 'warn' | 'FAIL', text: RegExp) => out.split('\n').some((l) => l.startsWith(level) && text.test(l))

describe('closeloop doctor', () => {
  it('passes a healthy deployment, with the script served under its public URL', async () => {
    const data = join(root, 'healthy')
    const added = await runCli(['sites', 'add', '--data', data, '--name', 'Shop', '--origin', 'https://shop.example'])
    const { pk } = parseKeys(added.stdout)
    const serve = await startServe(['--data', data])
    started.push(serve)
    await fetch(`${serve.url}/v1/collect`, { method: 'POST', headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA }, body: JSON.stringify({ site: pk, sentAt: Date.now(), events: [pageEvent(visitorId())] }) })
    const r = await runCli(['doctor', '--data', data, '--public-url', serve.url])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    for (const ok of [/data folder .* is owner-only/, /secret key /, /GB free/, /integrity check passed/, /schema version \d+ \(current\)/, /clock is not behind/, /script is served at .*\/closeloop\.js/]) expect(line(r.stdout, 'ok  ', ok), String(ok)).toBe(true)
    expect(r.stdout).toMatch(/All checks passed\.\n$/)
    serve.child.kill('SIGTERM')
    await serve.exited
  })

  it('names each broken condition: permissions, key, clock, origins, script, corruption, an unreachable database', async () => {
    const data = join(root, 'broken')
    expect((await runCli(['sites', 'add', '--data', data, '--name', 'Plain', '--origin', 'http://shop.example'])).code).toBe(0)
    const file = join(data, SQLITE_FILE)
    // A clock gone backwards: the newest stored event was received an hour from now.
    const db = new Database(file)
    const site = db.prepare('SELECT id FROM sites').get() as { id: string }
    db.prepare(`INSERT INTO events (site_id, id, type, ts, received_at, visitor_id, session_id) VALUES (?, 'e-future', 'page', ?, ?, 'v-future', 's')`).run(site.id, Date.now(), Date.now() + 3_600_000)
    // Written by a newer Closeloop than this build.
    db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 1)`).run()
    // A lead whose e-mail only the (missing) key could read.
    db.prepare(`INSERT INTO leads (id, site_id, created_at, identified_at, traits) VALUES ('lead-1', ?, 1, 1, '{}')`).run(site.id)
    db.close()
    chmodSync(file, 0o644)
    chmodSync(data, 0o755)
    rmSync(join(data, SECRET_KEY_FILE), { force: true })
    const r = await runCli(['doctor', '--data', data, '--public-url', 'http://127.0.0.1:9'])
    expect(r.code).toBe(1)
    expect(line(r.stdout, 'FAIL', /closeloop\.sqlite is readable by others \(mode 644\)/)).toBe(true)
    expect(line(r.stdout, 'warn', /data folder .* is readable by others \(mode 755\)/)).toBe(true)
    expect(line(r.stdout, 'FAIL', /no secret\.key .* the 1 stored lead\(s\)' e-mails cannot be read/)).toBe(true)
    expect(line(r.stdout, 'FAIL', /server clock is \d+ s behind the newest stored event/)).toBe(true)
    expect(line(r.stdout, 'warn', /site "Plain" allows origins without https: http:\/\/shop\.example/)).toBe(true)
    expect(line(r.stdout, 'FAIL', /schema version 99 is newer than this build knows/)).toBe(true)
    expect(line(r.stdout, 'FAIL', /127\.0\.0\.1:9\/closeloop\.js is unreachable/)).toBe(true)
    expect(r.stdout).toMatch(/→ chmod 600 /)
    expect(r.stdout).toMatch(/\d+ problem\(s\) to fix, \d+ warning\(s\)\.\n$/)

    // A corrupt database file: pages overwritten in the middle.
    const big = new Database(file)
    big.exec('CREATE TABLE filler (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO filler SELECT hex(randomblob(100)) FROM n')
    big.pragma('wal_checkpoint(TRUNCATE)')
    big.close()
    const fd = openSync(file, 'r+')
    writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 4096 * 3)
    closeSync(fd)
    const c = await runCli(['doctor', '--data', data])
    expect(c.code).toBe(1)
    expect(line(c.stdout, 'FAIL', /SQLite: integrity check failed/)).toBe(true)

    const pg = await runCli(['doctor', '--database-url', 'postgres://postgres@127.0.0.1:9/none'])
    expect(pg.code).toBe(1)
    expect(line(pg.stdout, 'FAIL', /PostgreSQL at .*127\.0\.0\.1:9/)).toBe(true)
  })

  it.runIf(small !== null)('warns when the data folder’s disk is nearly full', async () => {
    const data = join(small!, 'data')
    expect((await runCli(['sites', 'add', '--data', data, '--name', 'Tight', '--origin', 'https://tight.example'])).code).toBe(0)
    const r = await runCli(['doctor', '--data', data])
    expect(line(r.stdout, 'warn', /only 0\.\d GB \(\d+%\) free on the data folder's disk/), r.stdout).toBe(true)
    expect(r.stdout).toMatch(/→ free space or move --data/)
    expect(line(r.stdout, 'ok  ', /GB free/)).toBe(false)
  })
})
