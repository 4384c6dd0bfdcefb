// docs/deploy.md is tested, not just written: its systemd unit passes `systemd-analyze verify`, its
// Caddyfiles `caddy validate`, and its nginx configuration `nginx -t` — then nginx runs it, with a
// self-signed certificate on a free port, in front of a real `closeloop serve --base-path /_cl`,
// and the script and an event go through it. Needs systemd-analyze, caddy, nginx and openssl
// (Debian: apt-get install systemd caddy nginx openssl); each check says when one is missing.

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { BROWSER_UA, pageEvent, tempDir, visitorId } from '../http/helpers.js'
import { parseKeys, runCli, startServe, type ServeProcess } from './cli-process.js'

const doc = readFileSync(fileURLToPath(new URL('../../../../docs/deploy.md', import.meta.url)), 'utf8')
const blocks = (lang: string): string[] => [...doc.matchAll(/```(\w+)\n([\s\S]*?)```/g)].filter((m) => m[1] === lang).map((m) => m[2])
const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0
const dir = tempDir('closeloop-deploy-')
const running: Array<{ kill(): void }> = []
afterAll(() => {
  for (const p of running) p.kill()
  rmSync(dir, { recursive: true, force: true })
})

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

describe('docs/deploy.md', () => {
  it('has one systemd unit, two Caddyfiles and one nginx configuration', () => {
    expect([blocks('ini').length, blocks('caddy').length, blocks('nginx').length]).toEqual([1, 2, 1])
  })

  it.runIf(has('systemd-analyze'))('its systemd unit verifies cleanly (and a broken one does not)', () => {
    const unit = join(dir, 'closeloop.service')
    writeFileSync(unit, blocks('ini')[0])
    const ok = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
    expect([ok.status, ok.stderr.trim()]).toEqual([0, ''])
    const broken = join(dir, 'broken.service')
    writeFileSync(broken, blocks('ini')[0].replace('TimeoutStopSec=30', 'TimeoutStopSecs=30'))
    expect(spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' }).stderr).toMatch(/Unknown key/)
  })

  it.runIf(has('caddy'))('its Caddyfiles validate', () => {
    for (const [i, caddyfile] of blocks('caddy').entries()) {
      const file = join(dir, `Caddyfile-${i}`)
      writeFileSync(file, caddyfile)
      const r = spawnSync('caddy', ['adapt', '--config', file, '--adapter', 'caddyfile'], { encoding: 'utf8' })
      expect(r.status, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).apps.http.servers).toBeDefined()
    }
  })

  it.runIf(has('nginx') && has('openssl'))('its nginx configuration passes nginx -t and proxies the script and events to serve under /_cl', async () => {
    const data = join(dir, 'data')
    const added = await runCli(['sites', 'add', '--data', data, '--name', 'Shop', '--origin', 'https://shop.example'])
    const { pk } = parseKeys(added.stdout)
    const serve: ServeProcess = await startServe(['--data', data, '--base-path', '/_cl'], { CLOSELOOP_TRUST_PROXY: 'true' })
    running.push({ kill: () => serve.child.kill('SIGKILL') })
    const upstream = new URL(serve.url).port

    const prefix = join(dir, 'nginx')
    mkdirSync(join(prefix, 'logs'), { recursive: true })
    mkdirSync(join(prefix, 'www'), { recursive: true })
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=shop.example', '-keyout', join(prefix, 'key.pem'), '-out', join(prefix, 'cert.pem')], { stdio: 'ignore' })
    const port = await freePort()
    const site = blocks('nginx')[0]
      .replace('server 127.0.0.1:8787;', `server 127.0.0.1:${upstream};`)
      .replace('listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`)
      .replace('/etc/letsencrypt/live/shop.example/fullchain.pem', join(prefix, 'cert.pem'))
      .replace('/etc/letsencrypt/live/shop.example/privkey.pem', join(prefix, 'key.pem'))
      .replace('root /var/www/shop;', `root ${join(prefix, 'www')};`)
    expect(site).not.toContain('/etc/')
    const conf = join(prefix, 'nginx.conf')
    writeFileSync(conf, `daemon off;\nerror_log ${join(prefix, 'logs', 'error.log')};\npid ${join(prefix, 'nginx.pid')};\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${prefix};\n  proxy_temp_path ${prefix};\n${site}\n}\n`)
    const test = spawnSync('nginx', ['-t', '-p', prefix, '-c', conf], { encoding: 'utf8' })
    expect(test.status, test.stderr).toBe(0)
    const nginx = spawn('nginx', ['-p', prefix, '-c', conf], { stdio: 'ignore' })
    // TERM: the master stops its workers too (KILL would orphan them).
    running.push({ kill: () => nginx.kill('SIGTERM') })
    // nginx is up when its port answers.
    const base = `https://127.0.0.1:${port}`
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
    try {
      let script: Response | null = null
      for (let i = 0; i < 100 && script === null; i++) {
        script = await fetch(`${base}/_cl/closeloop.js`).catch(() => null)
        if (script === null) await new Promise((r) => setTimeout(r, 50))
      }
      expect(script?.status).toBe(200)
      expect(script?.headers.get('content-type')).toMatch(/javascript/)
      const vid = visitorId()
      const sent = await fetch(`${base}/_cl/v1/collect`, { method: 'POST', headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA, origin: 'https://shop.example' }, body: JSON.stringify({ site: pk, sentAt: Date.now(), events: [pageEvent(vid)] }) })
      expect(sent.status).toBe(200)
      expect((await sent.json()).accepted).toBe(1)
      // Through the proxy the collector saw https (X-Forwarded-Proto): its visitor cookie is Secure.
      expect(sent.headers.get('set-cookie') ?? '').toMatch(/Secure/)
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
    }
  }, 60_000)
})
