// `closeloop demo` end to end in a real browser: a visitor arrives from a newsletter, fills the
// example site's contact form, and the form backend's thank-you page shows that original source.

import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { cliCommand } from '../process/cli-process.js'
import { BROWSER_UA, tempDir } from '../http/helpers.js'

const dir = tempDir('closeloop-demo-')
const children: Array<ReturnType<typeof spawn>> = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

async function startDemo(ports: number[]): Promise<{ child: ReturnType<typeof spawn>; out: () => string; exited: Promise<number | null> }> {
  const { command, args } = cliCommand()
  const child = spawn(command, [...args, 'demo', '--port', String(ports[0]), '--site-port', String(ports[1]), '--backend-port', String(ports[2]), '--data', dir])
  children.push(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // The demo seeds a simulated business before it prints its keys: allow for a slow machine.
  const deadline = Date.now() + 150_000
  while (!/secret key/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo did not start: ${out}\n${err}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return { child, out: () => out, exited }
}

describe('closeloop demo', () => {
  it('runs the whole loop, reuses its site on rerun and stops on Ctrl-C', async () => {
    const ports = [await freePort(), await freePort(), await freePort()]
    const first = await startDemo(ports)
    const pk = /public key\s+(pk_\S+)/.exec(first.out())?.[1]
    expect(pk).toMatch(/^pk_/)
    // A newcomer is pointed at the dashboard, and it answers.
    const dashboard = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/dashboard)/.exec(first.out())?.[1]
    expect(dashboard).toBe(`http://127.0.0.1:${ports[0]}/dashboard`)
    expect((await fetch(dashboard!)).status).toBe(200)
    const site = `http://127.0.0.1:${ports[1]}`

    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    try {
      // Headless Chromium announces itself as HeadlessChrome, which the collector counts as a bot.
      const page = await (await browser.newContext({ userAgent: BROWSER_UA })).newPage()
      await page.goto(`${site}/?utm_source=Newsletter&utm_medium=email&utm_campaign=%3Cb%3Emay%3C%2Fb%3E`)
      await page.waitForResponse((r) => r.url().endsWith('/v1/collect'))
      await page.goto(`${site}/contact.html`)
      await page.fill('#lead-form input[name=name]', 'Ada')
      await page.fill('#lead-form input[name=email]', 'ada.demo@example.com')
      await Promise.all([page.waitForURL(/:\d+\/submit/), page.click('#lead-form [type=submit], #lead-form button')])
      expect(await page.textContent('[data-original-source]')).toBe('newsletter / email')
      expect(await page.textContent('[data-original-channel]')).toBe('Email')
      // The campaign is shown as text, not markup.
      expect(await page.textContent('[data-touch="First touch"] [data-field="campaign"]')).toBe('<b>may</b>')
      expect(await page.locator('b').count()).toBe(0)
    } finally {
      await browser.close()
    }

    first.child.kill('SIGINT')
    expect(await first.exited).toBe(0)

    const second = await startDemo(ports)
    expect(second.out()).toContain(pk)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  }, 400_000)
})
