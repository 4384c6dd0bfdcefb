// Registrable domain without shipping the Public Suffix List (~200 KB). Approximation: a host whose
// last label is a two-letter country code and whose second-to-last label is a generic second-level
// label (co, com, net, org, …) keeps three labels (shop.example.co.uk → example.co.uk, example.com.au);
// everything else keeps two. Private suffixes such as github.io are not known, so two sites under
// one of them count as the same site; IP addresses and single-label hosts are returned whole.
export function registrable(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '')
  return /^[\d.]+$|:/.test(h)
    ? h
    : (h.match(/[^.]+\.((co|com|net|org|gov|edu|ac|ne|or|go|gob|ltd|plc|sch|mil|nic|nom)\.[a-z]{2}|[^.]+)$/) || [h])[0]
}
