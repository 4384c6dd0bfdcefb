import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
const [url, sk, conns, amount] = process.argv.slice(2)
const anon = JSON.parse(readFileSync('/tmp/prof/anon.json', 'utf8'))
let n = Math.floor(Math.random() * anon.length)
const rid = () => randomBytes(16).toString('base64url').slice(0, 21)
const r = await autocannon({ url: url + '/v1/identify', connections: Number(conns), amount: Number(amount), method: 'POST',
  headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
  requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ visitorId: anon[n++ % anon.length], email: `bench-${n}-${rid()}@identify.example` }) }) }] })
console.log(JSON.stringify({ total: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors }))
