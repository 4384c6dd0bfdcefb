// How the real CLI fails: one coded line on stderr (plus an optional hint), exit code 1, and a
// stack trace only for an unexpected error under --debug.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectFailure, runCli } from './cli-process.js'
import { tempDir } from '../http/helpers.js'

const dir = tempDir('closeloop-cli-errors-')
let blocker: Server
let busyPort: number

beforeAll(async () => {
  blocker = createServer()
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', () => ok()))
  busyPort = (blocker.address() as { port: number }).port
  const added = await runCli(['sites', 'add', '--data', join(dir, 'store'), '--name', 'shop', '--origin', 'https://shop.example'])
  expect(added.code, added.stderr).toBe(0)
})
afterAll(async () => {
  await new Promise<void>((ok) => blocker.close(() => ok()))
  rmSync(dir, { recursive: true, force: true })
})

describe('closeloop errors', () => {
  it('serve and demo on a port in use: CL_ERR_PORT_IN_USE naming the port, and no new store', async () => {
    const [serve, demo] = await Promise.all([
      runCli(['serve', '--port', String(busyPort), '--data', join(dir, 'serve-busy')]),
      runCli(['demo', '--port', String(busyPort), '--data', join(dir, 'demo-busy')]),
    ])
    for (const [r, command] of [[serve, 'serve'], [demo, 'demo']] as const) {
      const { message, hint } = expectFailure(r, command, 'CL_ERR_PORT_IN_USE')
      expect(message).toBe(`port ${busyPort} on 127.0.0.1 is already in use`)
      expect(hint).toContain('--port')
    }
    expect(existsSync(join(dir, 'serve-busy'))).toBe(false)
    expect(existsSync(join(dir, 'demo-busy'))).toBe(false)
  })

  it('a missing CSV file for spend, deals and rates import: CL_ERR_FILE_NOT_FOUND naming it', async () => {
    const missing = join(dir, 'no-such.csv')
    const results = await Promise.all(['spend', 'deals', 'rates'].map((what) =>
      runCli([what, 'import', missing, '--site', 'shop', '--data', join(dir, 'store')])))
    results.forEach((r, i) => {
      const { message } = expectFailure(r, `${['spend', 'deals', 'rates'][i]} import`, 'CL_ERR_FILE_NOT_FOUND')
      expect(message).toBe(`no such file or folder: ${missing}`)
    })
  })

  it('a mistyped command suggests the nearest one; a mistyped subcommand too', async () => {
    const [reprot, sites, nothing] = await Promise.all([runCli(['reprot']), runCli(['sites', 'lsit']), runCli(['zzzzzzzz'])])
    expect(expectFailure(reprot, null, 'CL_ERR_UNKNOWN_COMMAND')).toMatchObject({ message: 'unknown command "reprot"', hint: expect.stringContaining('did you mean "report"?') })
    expect(expectFailure(sites, 'sites', 'CL_ERR_UNKNOWN_COMMAND').hint).toContain('did you mean "list"?')
    expect(expectFailure(nothing, null, 'CL_ERR_UNKNOWN_COMMAND').hint).not.toContain('did you mean')
  })

  it('an unknown flag, a flag without its value and a missing --site: one line and the usage', async () => {
    const store = join(dir, 'store')
    const [flag, value, site] = await Promise.all([
      runCli(['report', '--data', store, '--site', 'shop', '--modle', 'linear']),
      runCli(['report', '--data', store, '--site']),
      runCli(['erase', '--data', store, '--email', 'a@example.com']),
    ])
    const typo = expectFailure(flag, 'report', 'CL_ERR_USAGE')
    expect(typo.message).toBe('unknown option --modle')
    expect(typo.hint).toMatch(/^did you mean "--model"\? usage: closeloop report --site N/)
    expect(expectFailure(value, 'report', 'CL_ERR_USAGE').message).toBe('option --site needs a value')
    expect(expectFailure(site, 'erase', 'CL_ERR_USAGE')).toMatchObject({ message: '--site NAME is required', hint: expect.stringContaining('usage: closeloop erase') })
  })

  it('an unexpected error is CL_ERR_INTERNAL with a --debug hint; --debug or CLOSELOOP_DEBUG=1 adds the stack', async () => {
    const broken = join(dir, 'broken')
    mkdirSync(broken)
    writeFileSync(join(broken, 'closeloop.sqlite'), 'this is not a SQLite database, just text that is long enough to have a header')
    const [plain, debug, env] = await Promise.all([
      runCli(['sites', 'list', '--data', broken]),
      runCli(['sites', 'list', '--data', broken, '--debug']),
      runCli(['sites', 'list', '--data', broken], { CLOSELOOP_DEBUG: '1' }),
    ])
    const { message, hint } = expectFailure(plain, 'sites list', 'CL_ERR_INTERNAL')
    expect(message).toMatch(/^unexpected error: .*not a database/)
    expect(hint).toContain('--debug')
    for (const r of [debug, env]) {
      expect(r.code).toBe(1)
      expect(r.stderr.split('\n')[0]).toMatch(/^closeloop sites list: unexpected error: .* \(CL_ERR_INTERNAL\)$/)
      expect(r.stderr).toMatch(/^\s+at /m)
    }
  })

  it('--help of a command prints its usage and exits 0', async () => {
    const r = await runCli(['rates', 'list', '--help'])
    expect([r.code, r.stdout]).toEqual([0, 'Usage: closeloop rates list --site N [--json]\n'])
  })
})
