// A forwarding proxy that loses answers: what a client sees when its request was stored but the
// response never came back (a dropped connection), the case that makes clients retry.

import { createServer, request as httpRequest, type Server } from 'node:http'

export interface LossyProxy {
  /** The proxy's URL with the target's path. */
  url: string
  /** Every POST body forwarded, in order (retries included). */
  bodies: Buffer[]
  /** The path of each of those POSTs. */
  paths: string[]
  close(): Promise<void>
}

/**
 * Forwards to the collector; the first `lose` POSTs are stored by the collector but their answer
 * never reaches the client (the socket is cut), which must retry the same batch.
 */
export async function lossyProxy(target: string, lose: number): Promise<LossyProxy> {
  const bodies: Buffer[] = []
  const paths: string[] = []
  let lost = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      if (req.method === 'POST') {
        bodies.push(body)
        paths.push(req.url ?? '')
      }
      const url = new URL(req.url ?? '/', target)
      const fwd = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (up) => {
        const answer: Buffer[] = []
        up.on('data', (c: Buffer) => answer.push(c))
        up.on('end', () => {
          if (req.method === 'POST' && lost < lose) {
            lost++
            req.socket.destroy()
            return
          }
          res.writeHead(up.statusCode ?? 502, up.headers)
          res.end(Buffer.concat(answer))
        })
      })
      fwd.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    url: `http://127.0.0.1:${address.port}${new URL(target).pathname.replace(/\/$/, '')}`,
    bodies,
    paths,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

