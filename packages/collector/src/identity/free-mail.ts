// Free-mail providers: an address at one of them says nothing about the person's company, so it
// never makes an account. Matched on the registrable domain (see accountDomain in domains.ts);
// names ending in `.*` match that name under any top-level or country suffix (yahoo.co.uk).
// Keep sorted within each line; add providers as they turn up in real data.

const EXACT = [
  'gmail.com', 'googlemail.com', 'msn.com', 'ymail.com', 'rocketmail.com',
  'icloud.com', 'me.com', 'mac.com', 'aol.com', 'aim.com',
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me',
  'web.de', 't-online.de', 'freenet.de', 'mail.ru', 'inbox.ru', 'list.ru', 'bk.ru', 'rambler.ru',
  'qq.com', 'foxmail.com', '163.com', '126.com', 'yeah.net', 'sina.com', 'sohu.com', 'naver.com', 'daum.net',
  'zoho.com', 'zohomail.com', 'fastmail.com', 'fastmail.fm', 'hey.com', 'tutanota.com', 'tutanota.de', 'tuta.io',
  'mail.com', 'email.com', 'usa.com', 'hushmail.com', 'mailfence.com', 'posteo.de', 'mailbox.org', 'disroot.org',
  'orange.fr', 'wanadoo.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'libero.it', 'virgilio.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl',
  'comcast.net', 'verizon.net', 'att.net', 'sbcglobal.net', 'cox.net', 'bellsouth.net', 'earthlink.net', 'btinternet.com',
  'rediffmail.com', 'uol.com.br', 'bol.com.br', 'terra.com.br',
]

/** Providers present under many country or top-level suffixes: outlook.com, outlook.fr, hotmail.co.uk… */
const ANY_SUFFIX = ['outlook', 'hotmail', 'live', 'windowslive', 'yahoo', 'gmx', 'yandex', 'ya', 'aol', 'protonmail']

const exact = new Set(EXACT)

/** True when `domain` (a registrable domain, lower case) belongs to a free-mail provider. */
export function isFreeMail(domain: string): boolean {
  if (exact.has(domain)) return true
  const label = domain.slice(0, domain.indexOf('.'))
  return ANY_SUFFIX.includes(label)
}
