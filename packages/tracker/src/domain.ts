// Registrable domain without shipping the Public Suffix List (~200 KB). Approximation: a host whose
// last label is a two-letter country code and whose second-to-last label is a generic second-level
// label (co, com, net, org, …) keeps three labels (shop.example.co.uk → example.co.uk, example.com.au);
// everything else keeps two. Private suffixes such as github.io are not known, so two sites under
// one of them count as the same site; IP addresses and single-label hosts are returned whole. A
// leading dot, as cookie domains and internal domains may be written (.example.com), is ignored.
export function registrable(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '')
  // One pattern: an IP address or a host with `:` (IPv6) matches whole from its first character;
  // else the last label with the one or two before it that the rule keeps. The second-level labels
  // are co com net org gov edu ac ne or go gob ltd plc sch mil nic nom, written factored.
  return (h.match(/^[\d.]+$|.*:.*|[^.]+(\.(com?|net?|org?|go[bv]?|edu|ac|ltd|plc|sch|mil|nic|nom)\.[a-z]{2}|\.[^.]+)?$/) || [h])[0]
}
