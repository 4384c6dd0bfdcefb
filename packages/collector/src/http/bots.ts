// Bots are counted, not stored. A missing User-Agent is not a bot: server-side senders
// and privacy tools omit it.

import { isbot } from 'isbot'

// isbot is one large regular expression (~2% of a /v1/collect request's CPU); a site's traffic
// repeats a few hundred user agents, so verdicts are remembered, up to a bound (then started anew).
const MEMO_SIZE = 2_000
const memo = new Map<string, boolean>()

export function isBotUserAgent(userAgent: string | undefined): boolean {
  if (userAgent === undefined || userAgent === '') return false
  let bot = memo.get(userAgent)
  if (bot === undefined) {
    bot = isbot(userAgent)
    if (memo.size >= MEMO_SIZE) memo.clear()
    memo.set(userAgent, bot)
  }
  return bot
}
