// Bots are counted, not stored (SPEC §7). A missing User-Agent is not a bot: server-side senders
// and privacy tools omit it.

import { isbot } from 'isbot'

export function isBotUserAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && userAgent !== '' && isbot(userAgent)
}
