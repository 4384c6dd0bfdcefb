// The package as consumers resolve it, checked on `npm pack` of the built package (offline):
// publint lints package.json against the packed files; Are the Types Wrong resolves every entry
// for `import` and `require` in each TypeScript module resolution and checks its types match the
// JavaScript (CommonJS declarations for the .cjs builds, ESM for the .mjs). closeloop.js is the
// script tag's file, not a module, so it has no types to check.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const dir = fileURLToPath(new URL('..', import.meta.url))
const run = async (bin: string, args: string[]) => {
  try {
    const { stdout } = await promisify(execFile)(`${dir}node_modules/.bin/${bin}`, args, { cwd: dir, encoding: 'utf8' })
    return { code: 0, out: stdout }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, out: err.stdout + err.stderr }
  }
}

describe('the published package', () => {
  it('npm runs without a warning, here and at the repository root', { timeout: 60_000 }, async () => {
    // An .npmrc with pnpm-only keys made npm warn on every command; they live in pnpm-workspace.yaml.
    // pnpm's own npm_config_* variables (set when pnpm runs this test) are not the project's config.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)))
    const { stderr } = await promisify(execFile)('npm', ['config', 'list'], { cwd: `${dir}../..`, env, encoding: 'utf8' })
    expect(stderr).not.toMatch(/warn/i)
    const pack = await promisify(execFile)('npm', ['pack', '--dry-run', '--json'], { cwd: dir, env, encoding: 'utf8' })
    expect(pack.stderr).not.toMatch(/warn/i)
    // The vendored data's licence notice and both declaration kinds ship; the CSV itself does not.
    const files = (JSON.parse(pack.stdout)[0].files as { path: string }[]).map((f) => f.path)
    expect(files).toEqual(expect.arrayContaining(['data/README.md', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/channel.d.ts', 'dist/channel.d.cts', 'dist/closeloop.js']))
    expect(files.filter((f) => f.endsWith('.csv'))).toEqual([])
  })

  it('passes publint, warnings included', { timeout: 60_000 }, async () => {
    const r = await run('publint', ['--pack', 'npm', '--level', 'warning', '--strict'])
    expect(r.out).toContain('All good!')
    expect(r.code).toBe(0)
  })

  it('has the right types for import and require in every module resolution', { timeout: 60_000 }, async () => {
    const r = await run('attw', ['--pack', '.', '--exclude-entrypoints', './closeloop.js', '--format', 'json'])
    const report = JSON.parse(r.out)
    expect(report.analysis.problems).toEqual([])
    const kinds = report.analysis.entrypoints
    for (const entry of ['.', './channel']) {
      const res = kinds[entry].resolutions
      expect(res['node16-cjs'].resolution.fileName, entry).toMatch(/\.d\.cts$/)
      expect(res['node16-esm'].resolution.fileName, entry).toMatch(/\/dist\/(index|channel)\.d\.ts$/)
      expect(res.node10.resolution?.fileName, entry).toBeTruthy()
    }
    expect(r.code).toBe(0)
  })
})
