// Real Chromium for browser tests, driven by playwright-core (never a downloaded browser).
// Fake public host names resolve to 127.0.0.1 inside the browser, so tests get genuine cross-site
// referrers (a real www.google.com page linking to the site) and real cookie-domain behaviour
// (www.example.test and app.example.test sharing `.example.test`) without DNS or internet.
import { type Browser, type LaunchOptions, chromium } from 'playwright-core'

/** Host names the browser resolves to 127.0.0.1. Hosts on Chromium's HSTS preload list (bing.com,
 * duckduckgo.com, …) are left out: Chromium would upgrade them to https. */
export const FAKE_HOSTS = [
  'www.example.test',
  'app.example.test',
  't.example.test',
  'www.example-app.test',
  'blog.partner.test',
  'www.google.com',
  'www.google.co.uk',
] as const

export type FakeHost = (typeof FAKE_HOSTS)[number]

/** The flags every Chromium run on this project uses (see notes/preamble). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** `--host-resolver-rules` mapping each host to 127.0.0.1; anything else fails to resolve, so a test
 * that leaks a request to a real host fails instead of reaching the network. */
export function hostResolverRules(hosts: readonly string[] = FAKE_HOSTS): string {
  const rules = [...hosts.map((h) => `MAP ${h} 127.0.0.1`), 'MAP localhost 127.0.0.1', 'MAP * ~NOTFOUND', 'EXCLUDE 127.0.0.1']
  return '--host-resolver-rules=' + rules.join(', ')
}

export interface LaunchBrowserOptions {
  /** Extra host names to resolve to 127.0.0.1, beyond FAKE_HOSTS. */
  hosts?: readonly string[]
  /** Extra Chromium flags. */
  args?: readonly string[]
  launch?: Omit<LaunchOptions, 'executablePath' | 'args'>
}

export function launchBrowser(options: LaunchBrowserOptions = {}): Promise<Browser> {
  return chromium.launch({
    ...options.launch,
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, hostResolverRules([...FAKE_HOSTS, ...(options.hosts ?? [])]), ...(options.args ?? [])],
  })
}
