// `closeloop demo --port P`: the example site and form backend take P+1 and P+2, or a free port
// when one of those is taken, and the printed URLs say where they ended up.

import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cliCommand } from './cli-process.js'
import { tempDir } from '../http/helpers.js'

const dir = tempDir('closeloop-demo-ports-')
const children: Array<ReturnType<typeof spawn>> = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

function listen(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}
const close = (s: Server): Promise<void> => new Promise((ok) => s.close(() => ok()))

/** A port P with P and P+2 free, and a server holding P+1. */
async function portsWithBusyNeighbour(): Promise<{ port: number; blocker: Server }> {
  for (;;) {
    const probe = await listen(0)
    const port = (probe!.address() as { port: number }).port
    await close(probe!)
    if (port + 2 > 65535) continue
    const blocker = await listen(port + 1)
    const third = await listen(port + 2)
    if (blocker && third) {
      await close(third)
      return { port, blocker }
    }
    if (blocker) await close(blocker)
    if (third) await close(third)
  }
}

describe('closeloop demo ports', () => {
  it('follows --port, moves the site off a taken port, prints the URLs and announces the new store', async () => {
    const { port, blocker } = await portsWithBusyNeighbour()
    try {
      const { command, args } = cliCommand()
      const data = join(dir, 'demo')
      const child = spawn(command, [...args, 'demo', '--port', String(port), '--data', data])
      children.push(child)
      let out = ''
      let err = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr.on('data', (d: Buffer) => (err += d.toString()))
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      const deadline = Date.now() + 150_000
      while (!/secret key/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo did not start: ${out}\n${err}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(err).toContain(`closeloop demo: no store in ${data} yet; creating a new one there\n`)
      expect(out).toContain(`collector      http://127.0.0.1:${port} `)
      const site = /example site\s+http:\/\/127\.0\.0\.1:(\d+)\/ .*\(port (\d+) was taken\)/.exec(out)
      expect(site?.[2]).toBe(String(port + 1))
      expect(Number(site?.[1])).not.toBe(port + 1)
      expect(out).toMatch(new RegExp(`form backend\\s+http://127\\.0\\.0\\.1:${port + 2}\\n`))
      // The site really is there, with the collector's address substituted in.
      const page = await fetch(`http://127.0.0.1:${site?.[1]}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain(`http://127.0.0.1:${port}`)
      child.kill('SIGINT')
      expect(await exited).toBe(0)
    } finally {
      await close(blocker)
    }
  }, 200_000)
})
