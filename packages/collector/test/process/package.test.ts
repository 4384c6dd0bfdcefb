// The published package: publint lints package.json against `npm pack` of the built package
// (offline), so a missing or mis-declared file in exports, bin or types fails here, not for users.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const dir = fileURLToPath(new URL('../..', import.meta.url))

describe('the published package', () => {
  it('passes publint, warnings included', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(`${dir}node_modules/.bin/publint`, ['--pack', 'npm', '--level', 'warning', '--strict'], { cwd: dir, encoding: 'utf8' })
    expect(stdout).toContain('All good!')
  })
})
