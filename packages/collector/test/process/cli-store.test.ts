// Which commands may start a new store: serve and sites add do, saying so on stderr; every other
// command refuses a data folder without one (CL_ERR_NO_STORE) and leaves the disk untouched.

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { expectFailure, runCli, startServe } from './cli-process.js'
import { tempDir } from '../http/helpers.js'

const dir = tempDir('closeloop-cli-store-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const csv = join(dir, 'rows.csv')
writeFileSync(csv, 'date,currency,rate\n2026-01-01,USD,0.9\n')

/** Every command that needs an existing store, as argv without --data. */
const NEEDS_STORE: Array<[string, string[]]> = [
  ['report', ['report', '--site', 'shop']],
  ['sites list', ['sites', 'list']],
  ['sites update', ['sites', 'update', '--name', 'shop', '--currency', 'EUR']],
  ['spend import', ['spend', 'import', csv, '--site', 'shop']],
  ['deals import', ['deals', 'import', csv, '--site', 'shop']],
  ['rates import', ['rates', 'import', csv, '--site', 'shop']],
  ['rates list', ['rates', 'list', '--site', 'shop']],
  ['erase', ['erase', '--site', 'shop', '--email', 'a@example.com']],
]

describe('closeloop data folders', () => {
  it('refuses a missing data folder in every one-shot command, naming it, and creates nothing', async () => {
    const missing = join(dir, 'typo', 'closeloop-dta')
    const results = await Promise.all(NEEDS_STORE.map(([, argv]) => runCli([...argv, '--data', missing])))
    results.forEach((r, i) => {
      const { message, hint } = expectFailure(r, NEEDS_STORE[i][0], 'CL_ERR_NO_STORE')
      expect(message).toBe(`no Closeloop store (closeloop.sqlite) in ${missing}`)
      expect(hint).toContain(`closeloop serve --data ${missing}`)
      expect(hint).toContain('closeloop sites add')
    })
    expect(existsSync(join(dir, 'typo'))).toBe(false)
  })

  it('refuses an existing folder without a store and leaves it empty (no store file, no secret key)', async () => {
    const empty = join(dir, 'empty')
    mkdirSync(empty)
    const results = await Promise.all(NEEDS_STORE.map(([, argv]) => runCli([...argv, '--data', empty])))
    results.forEach((r, i) => expectFailure(r, NEEDS_STORE[i][0], 'CL_ERR_NO_STORE'))
    expect(readdirSync(empty)).toEqual([])
  })

  it('reads CLOSELOOP_DATA the same way', async () => {
    const r = await runCli(['sites', 'list'], { CLOSELOOP_DATA: join(dir, 'env-missing') })
    expect(expectFailure(r, 'sites list', 'CL_ERR_NO_STORE').message).toContain(join(dir, 'env-missing'))
    expect(existsSync(join(dir, 'env-missing'))).toBe(false)
  })

  it('sites add starts a store and says so once; later commands use it quietly', async () => {
    const home = join(dir, 'new-home')
    const first = await runCli(['sites', 'add', '--data', home, '--name', 'shop', '--origin', 'https://shop.example'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toBe(`closeloop sites add: no store in ${home} yet; creating a new one there\n`)
    expect(existsSync(join(home, 'closeloop.sqlite'))).toBe(true)
    const second = await runCli(['sites', 'add', '--data', home, '--name', 'blog', '--origin', 'https://blog.example'])
    expect([second.code, second.stderr]).toEqual([0, ''])
    const list = await runCli(['sites', 'list', '--data', home])
    expect([list.code, list.stderr]).toEqual([0, ''])
    expect(list.stdout).toContain('blog')
  })

  it('serve starts a store in a new folder and says so on stderr; not when the store exists', async () => {
    const home = join(dir, 'served')
    const first = await startServe(['--data', home])
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.stderr()).toContain(`closeloop serve: no store in ${home} yet; creating a new one there\n`)
    expect(existsSync(join(home, 'closeloop.sqlite'))).toBe(true)
    const again = await startServe(['--data', home])
    again.child.kill('SIGTERM')
    expect(await again.exited).toBe(0)
    expect(again.stderr()).not.toContain('creating a new one')
  })
})
