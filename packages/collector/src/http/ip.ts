// IP addresses are never stored or logged whole: IPv4 keeps its /24, IPv6 its /48.

import { isIPv4, isIPv6 } from 'node:net'

export function truncateIp(ip: string | undefined): string {
  if (!ip) return ''
  const v4 = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip
  if (isIPv4(v4)) return v4.split('.').slice(0, 3).join('.') + '.0'
  if (isIPv6(ip)) {
    // Groups before a "::" are the leading ones; pad so the first three are always present.
    const groups = ip.split('::')[0].split(':').filter(Boolean)
    while (groups.length < 3) groups.push('0')
    return groups.slice(0, 3).join(':') + '::'
  }
  return ''
}
