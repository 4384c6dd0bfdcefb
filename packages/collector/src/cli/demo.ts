// `closeloop demo`: the whole loop on one machine — collector (SQLite under
// ./closeloop-data/demo), the example site and the example form backend, on the collector's port
// and the next two (or free ones when those are taken). The demo site is reused on rerun; its
// secret key is kept in demo.json because it is shown once.

import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { loadConfig, type Config } from '../config.js'
import { repoRoot, serveExampleSite } from './demo-site.js'
import { secretKeyId } from '../sites/keys.js'
import { closeOnSignals, startServer } from '../http/server.js'
import { createSite } from '../sites/admin.js'
import { openStore } from '../store/index.js'
import { portNear, probePort } from './ports.js'
import { announceNewStore } from './store.js'
import type { Store } from '../store/types.js'

const DEMO_SITE = 'Closeloop demo'

interface DemoKeys {
  publicKey: string
  secretKey: string
}

interface FormBackend {
  url: string
  close(): Promise<void>
}
type StartFormBackend = (options: { collector: string; secretKey: string; port?: number; host?: string }) => Promise<FormBackend>

async function demoKeys(store: Store, dataDir: string, origins: string[]): Promise<DemoKeys> {
  const file = join(dataDir, 'demo.json')
  if (existsSync(file)) {
    const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<DemoKeys>
    const site = saved.publicKey ? await store.getSiteByPublicKey(saved.publicKey) : null
    const keyId = saved.secretKey ? secretKeyId(saved.secretKey) : null
    if (site && keyId && saved.secretKey && (await store.getSiteBySecretKeyId(keyId))?.site.id === site.id) {
      // Ports may differ from the last run: the site must allow this run's origins.
      if (origins.some((o) => !site.origins.includes(o))) await store.updateSite(site.id, { origins: [...new Set([...site.origins, ...origins])] })
      return { publicKey: site.publicKey, secretKey: saved.secretKey }
    }
  }
  let name = DEMO_SITE
  for (let i = 2; await store.getSiteByName(name); i++) name = `${DEMO_SITE} ${i}`
  const created = await createSite(store, { name, origins, currency: 'EUR' })
  const keys = { publicKey: created.site.publicKey, secretKey: created.secretKey }
  await writeFile(file, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 })
  return keys
}

async function loadFormBackend(): Promise<StartFormBackend> {
  const mod = (await import(pathToFileURL(join(repoRoot(), 'examples', 'form-backend', 'server.mjs')).href)) as { startFormBackend?: unknown }
  if (typeof mod.startFormBackend !== 'function') throw new Error('examples/form-backend/server.mjs does not export startFormBackend')
  return mod.startFormBackend as StartFormBackend
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '8787' },
      'site-port': { type: 'string' },
      'backend-port': { type: 'string' },
      // The first name of --backend-port, still accepted.
      'form-port': { type: 'string' },
      data: { type: 'string', default: join('closeloop-data', 'demo') },
      host: { type: 'string', default: '127.0.0.1' },
    },
  })
  const host = values.host
  const config: Config = loadConfig({ port: values.port, host, data: values.data }, {})
  // The collector's port is the one the user asked for: taken means an error, not another port.
  if (config.port !== 0) await probePort(config.port, host)
  const pick = async (flag: 'site-port' | 'backend-port', offset: number): Promise<{ port: number; moved: boolean }> => {
    const given = flag === 'backend-port' ? values['backend-port'] ?? values['form-port'] : values[flag]
    if (given !== undefined) return { port: loadConfig({ port: given }, {}).port, moved: false }
    return portNear(config.port === 0 ? 0 : config.port + offset, host)
  }
  const siteChoice = await pick('site-port', 1)
  const formChoice = await pick('backend-port', 2)
  const sitePort = siteChoice.port
  const formPort = formChoice.port
  announceNewStore('demo', config)
  await mkdir(config.dataDir, { recursive: true })

  const origins = [`http://${host}:${sitePort}`, `http://localhost:${sitePort}`]
  const setup = await openStore({ dataDir: config.dataDir })
  let keys: DemoKeys
  try {
    keys = await demoKeys(setup, config.dataDir, origins)
  } finally {
    await setup.close()
  }

  const collector = await startServer(config, { logger: { level: 'warn' } })
  const started: Array<{ close(): Promise<void> }> = []
  let form: FormBackend
  let site: Awaited<ReturnType<typeof serveExampleSite>>
  try {
    const startFormBackend = await loadFormBackend()
    form = await startFormBackend({ collector: collector.url, secretKey: keys.secretKey, port: formPort, host })
    started.push(form)
    site = await serveExampleSite({ collector: collector.url, site: keys.publicKey, formAction: `${form.url}/submit`, port: sitePort, host })
    started.push(site)
    await (await import('../simulate/demo-seed.js')).seedDemo({ baseUrl: collector.url, secretKey: keys.secretKey, dataDir: config.dataDir })
  } catch (err) {
    // A port taken since it was probed, say: stop what started so the error ends the process.
    await Promise.allSettled(started.map((s) => s.close()))
    await collector.close()
    throw err
  }
  const moved = (choice: { moved: boolean }, wanted: number): string => choice.moved ? `   (port ${wanted} was taken)` : ''

  closeOnSignals(async () => {
    await Promise.allSettled([site.close(), form.close()])
    await collector.close()
  })
  process.stdout.write([
    '',
    'Closeloop demo is running (Ctrl-C stops everything):',
    `  example site   ${site.url}/   ← open this; try ${site.url}/?utm_source=newsletter&utm_medium=email&utm_campaign=demo${moved(siteChoice, config.port + 1)}`,
    `  dashboard      ${collector.url}/dashboard   ← sign in with the secret key below`,
    `  collector      ${collector.url}   (tracker: ${collector.url}/closeloop.js, metrics: ${collector.url}/metrics)`,
    `  form backend   ${form.url}${moved(formChoice, config.port + 2)}`,
    `  data           ${config.dataDir}`,
    `  public key     ${keys.publicKey}`,
    `  secret key     ${keys.secretKey}   (kept in ${join(config.dataDir, 'demo.json')})`,
    '',
  ].join('\n'))
  return -1
}
