// Runs the real CLI in a child process (built dist/cli.js when present, else src via tsx).

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

const pkg = fileURLToPath(new URL('../..', import.meta.url))

export function cliCommand(): { command: string; args: string[] } {
  const src = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
  // Tests exercise the source under test; tsx runs it without a build step.
  if (existsSync(src)) return { command: process.execPath, args: ['--import', 'tsx', src] }
  return { command: process.execPath, args: [fileURLToPath(new URL('../../dist/cli.js', import.meta.url))] }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const { command, args: base } = cliCommand()
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...base, ...args], { cwd: pkg, env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

export interface ServeProcess {
  child: ChildProcess
  url: string
  exited: Promise<number | null>
  stderr(): string
}

/** `closeloop serve --port 0 …`, resolved once it prints its URL. */
export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const { command, args: base } = cliCommand()
  const child = spawn(command, [...base, 'serve', '--port', '0', ...args], {
    cwd: pkg,
    env: { ...process.env, CLOSELOOP_LOG_LEVEL: 'warn', ...env },
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: m[1], exited, stderr: () => stderr })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code}): ${stderr}`))
    })
  })
}

export function parseKeys(stdout: string): { pk: string; sk: string } {
  const pk = /public key: (pk_\S+)/.exec(stdout)?.[1]
  const sk = /secret key: (sk_\S+)/.exec(stdout)?.[1]
  if (!pk || !sk) throw new Error(`no keys in: ${stdout}`)
  return { pk, sk }
}

/** Exit 1; line one `closeloop <command>: … (code)`, at most a `hint:` line after it, no stack. */
export function expectFailure(r: CliResult, command: string | null, code: string): { message: string; hint?: string } {
  expect(r.code, r.stderr).toBe(1)
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines.length, r.stderr).toBeLessThanOrEqual(2)
  const prefix = command === null ? 'closeloop: ' : `closeloop ${command}: `
  expect(lines[0].startsWith(prefix), r.stderr).toBe(true)
  expect(lines[0].endsWith(` (${code})`), r.stderr).toBe(true)
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^hint: \S/)
  expect(r.stderr).not.toMatch(/^\s+at /m)
  return { message: lines[0].slice(prefix.length, -(code.length + 3)), hint: lines[1]?.slice('hint: '.length) }
}
