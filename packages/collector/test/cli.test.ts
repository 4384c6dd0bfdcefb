import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { parseKeys, runCli } from './cli-process.js'
import { tempDir } from './helpers.js'

const dir = tempDir('closeloop-cli-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('closeloop CLI', () => {
  it('adds a site, prints both keys once, and lists it without the secret', async () => {
    const added = await runCli(['sites', 'add', '--data', dir, '--name', 'Acme', '--origin', 'https://acme.example/', '--origin', 'https://www.acme.example', '--cookie-domain', '.acme.example', '--currency', 'eur'])
    expect(added.code, added.stderr).toBe(0)
    const { pk, sk } = parseKeys(added.stdout)
    expect(pk).toMatch(/^pk_[A-Za-z0-9_-]{21}$/)
    expect(sk).toMatch(/^sk_[A-Za-z0-9_-]{40}$/)

    const list = await runCli(['sites', 'list', '--data', dir])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain('Acme')
    expect(list.stdout).toContain(pk)
    expect(list.stdout).toContain('https://acme.example,https://www.acme.example')
    expect(list.stdout).toContain('EUR')
    expect(list.stdout).not.toContain(sk)
    expect(list.stdout).not.toContain(sk.slice(11))
  })

  it('reads the data directory from CLOSELOOP_DATA', async () => {
    const list = await runCli(['sites', 'list', '--json'], { CLOSELOOP_DATA: dir })
    expect(JSON.parse(list.stdout).map((s: { name: string }) => s.name)).toEqual(['Acme'])
  })

  it('refuses duplicates, bad origins and unknown commands with coded messages', async () => {
    const dup = await runCli(['sites', 'add', '--data', dir, '--name', 'Acme', '--origin', 'https://acme.example'])
    expect(dup.code).toBe(1)
    expect(dup.stderr).toContain('CL_ERR_SITE_EXISTS')
    const origin = await runCli(['sites', 'add', '--data', dir, '--name', 'Other', '--origin', 'javascript:alert(1)'])
    expect(origin.code).toBe(1)
    expect(origin.stderr).toContain('CL_ERR_BAD_ORIGIN')
    const unknown = await runCli(['frobnicate'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('Usage: closeloop')
    const badFlag = await runCli(['sites', 'add', '--nme', 'x'])
    expect(badFlag.code).toBe(1)
  })
})
