// One Chromium and one site server per test file, a fresh browser context (cookies, storage) per
// test: the expensive parts are shared, the state under test never is.
import { existsSync } from 'node:fs'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { launchBrowser } from './browser.js'
import { type SiteServer, type SiteServerOptions, TRACKER_BUNDLE, startSiteServer } from './site-server.js'

export interface TrackerSuite {
  readonly browser: Browser
  readonly server: SiteServer
  /** A new context and page; closed after the test. `init` scripts run before any page script. */
  open(options?: { context?: BrowserContextOptions; init?: string[] }): Promise<{ context: BrowserContext; page: Page }>
}

export function useTrackerSuite(options: SiteServerOptions = {}): TrackerSuite {
  let browser: Browser | undefined
  let server: SiteServer | undefined
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    if (!existsSync(options.bundle ?? TRACKER_BUNDLE))
      throw new Error(`${options.bundle ?? TRACKER_BUNDLE} is missing: build @closeloop/tracker first (pnpm build)`)
    server = await startSiteServer(options)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })
  beforeEach(() => server?.reset())
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()))
    // Lets a closing page's pagehide send land here, not in the next test's recorder.
    await server?.collect.settle()
  })

  return {
    get browser() {
      if (!browser) throw new Error('browser not launched')
      return browser
    },
    get server() {
      if (!server) throw new Error('server not started')
      return server
    },
    async open(o = {}) {
      if (!browser) throw new Error('browser not launched')
      const context = await browser.newContext(o.context)
      contexts.push(context)
      for (const script of o.init ?? []) await context.addInitScript(script)
      const page = await context.newPage()
      return { context, page }
    },
  }
}
