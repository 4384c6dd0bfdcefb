// A small, strict XML reader for inbound webhook bodies (Salesforce outbound messages are SOAP).
// The bodies come from anyone who knows a URL, so it reads only what such messages use —
// elements, attributes, namespaces, text, CDATA, comments, the five predefined entities and
// character references — and refuses DOCTYPE (no entity definitions, so no entity expansion),
// processing instructions, undeclared prefixes, deep nesting and oversized input.

export class XmlError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'XmlError'
  }
}

export interface XmlElement {
  /** The local name, without prefix. */
  name: string
  /** The namespace URI the element's prefix (or the default namespace) resolves to; null when none. */
  ns: string | null
  /** Attributes by their name as written (`xsi:type`), values decoded; xmlns declarations included. */
  attrs: Record<string, string>
  children: XmlElement[]
  /** The element's own text (CDATA included), decoded; children's text is not in it. */
  text: string
}

export interface XmlLimits {
  maxBytes?: number
  maxDepth?: number
  maxElements?: number
}

const NAME = /[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/y
const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const XML_NS = 'http://www.w3.org/XML/1998/namespace'

function decode(raw: string, at: () => string): string {
  if (!raw.includes('&')) return raw
  return raw.replace(/&([^;&\s]{0,12});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`bare "&" ${at()}`)
    if (ref in ENTITY) return ENTITY[ref]
    const m = /^#(?:x([0-9a-fA-F]{1,6})|(\d{1,7}))$/.exec(ref)
    const code = m ? (m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2])) : NaN
    if (!Number.isFinite(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || (code < 0x20 && ![9, 10, 13].includes(code))) {
      throw new XmlError(`unknown or invalid entity "&${ref.slice(0, 12)};" ${at()}`)
    }
    return String.fromCodePoint(code)
  })
}

/** The document's root element; throws XmlError saying what is wrong and where. */
export function parseXml(input: Buffer | string, limits: XmlLimits = {}): XmlElement {
  const maxBytes = limits.maxBytes ?? 1024 * 1024
  const maxDepth = limits.maxDepth ?? 32
  const maxElements = limits.maxElements ?? 20_000
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length
  if (size > maxBytes) throw new XmlError(`document is larger than ${maxBytes} bytes`)
  const src = typeof input === 'string' ? input : input.toString('utf8')
  let i = src.charCodeAt(0) === 0xfeff ? 1 : 0
  let elements = 0

  const line = (): string => `at line ${src.slice(0, i).split('\n').length}`
  const fail = (message: string): never => { throw new XmlError(`${message} ${line()}`) }
  const skipSpace = (): void => { while (i < src.length && /\s/.test(src[i])) i++ }
  const starts = (s: string): boolean => src.startsWith(s, i)
  const until = (end: string, what: string): string => {
    const j = src.indexOf(end, i)
    if (j < 0) fail(`unterminated ${what}`)
    const s = src.slice(i, j)
    i = j + end.length
    return s
  }
  const name = (): string => {
    NAME.lastIndex = i
    const m = NAME.exec(src)
    if (!m) return fail('expected a name')
    i += m[0].length
    return m[0]
  }
  /** Comments may sit between elements; DOCTYPE and processing instructions may not. */
  const misc = (): boolean => {
    skipSpace()
    if (starts('<!--')) { i += 4; until('-->', 'comment'); return true }
    if (starts('<!DOCTYPE') || starts('<!doctype')) fail('DOCTYPE is not allowed')
    if (starts('<?')) fail('processing instructions are not allowed')
    return false
  }

  const element = (scope: Map<string, string>, depth: number): XmlElement => {
    if (depth > maxDepth) fail(`elements nest deeper than ${maxDepth}`)
    if (++elements > maxElements) fail(`more than ${maxElements} elements`)
    if (src[i] !== '<') fail('expected "<"')
    i++
    const qname = name()
    const attrs: Record<string, string> = {}
    for (;;) {
      const before = i
      skipSpace()
      if (i >= src.length) fail(`<${qname}> is not closed`)
      if (starts('/>') || starts('>')) break
      if (i === before) fail(`expected whitespace or ">" in <${qname}>`)
      const attr = name()
      skipSpace()
      if (src[i] !== '=') fail(`attribute ${attr} has no value`)
      i++
      skipSpace()
      const quote = src[i]
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} value must be quoted`)
      i++
      const raw = until(quote, `attribute ${attr}`)
      if (raw.includes('<')) fail(`"<" in attribute ${attr}`)
      if (attr in attrs) fail(`attribute ${attr} repeated`)
      attrs[attr] = decode(raw, line)
    }
    let own = scope
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) {
        if (own === scope) own = new Map(scope)
        own.set(k === 'xmlns' ? '' : k.slice(6), v)
      }
    }
    const colon = qname.indexOf(':')
    const prefix = colon < 0 ? '' : qname.slice(0, colon)
    const ns = prefix === 'xml' ? XML_NS : own.get(prefix)
    if (prefix !== '' && ns === undefined) fail(`undeclared namespace prefix "${prefix}"`)
    const el: XmlElement = { name: colon < 0 ? qname : qname.slice(colon + 1), ns: ns === undefined || ns === '' ? null : ns, attrs, children: [], text: '' }
    if (starts('/>')) { i += 2; return el }
    i++
    const text: string[] = []
    for (;;) {
      if (i >= src.length) fail(`<${qname}> is not closed`)
      if (starts('</')) {
        i += 2
        const closing = name()
        if (closing !== qname) fail(`</${closing}> closes <${qname}>`)
        skipSpace()
        if (src[i] !== '>') fail(`expected ">" after </${closing}`)
        i++
        el.text = text.join('')
        return el
      }
      if (starts('<!--')) { i += 4; until('-->', 'comment'); continue }
      if (starts('<![CDATA[')) { i += 9; text.push(until(']]>', 'CDATA section')); continue }
      if (starts('<!') || starts('<?')) fail('DOCTYPE, declarations and processing instructions are not allowed')
      if (src[i] === '<') { el.children.push(element(own, depth + 1)); continue }
      const j = src.indexOf('<', i)
      const raw = src.slice(i, j < 0 ? src.length : j)
      text.push(decode(raw, line))
      i += raw.length
    }
  }

  skipSpace()
  if (starts('<?xml')) {
    if (!/^<\?xml[\s?]/.test(src.slice(i, i + 6))) fail('processing instructions are not allowed')
    i += 5
    until('?>', 'XML declaration')
  }
  while (misc()) { /* comments before the root */ }
  if (i >= src.length) fail('no root element')
  const root = element(new Map(), 1)
  while (misc()) { /* comments after the root */ }
  if (i < src.length) fail('content after the root element')
  return root
}

/** The child elements named `name` in namespace `ns` (any namespace when undefined). */
export function children(el: XmlElement, name: string, ns?: string | null): XmlElement[] {
  return el.children.filter((c) => c.name === name && (ns === undefined || c.ns === ns))
}

export function child(el: XmlElement, name: string, ns?: string | null): XmlElement | undefined {
  return el.children.find((c) => c.name === name && (ns === undefined || c.ns === ns))
}
