// Port probing for `closeloop demo`: its example site and form backend follow the collector's port
// (+1, +2) when those are free, and take any free port when they are not.

import { createServer } from 'node:net'

/** Binds and releases host:port; rejects with the listen error (EADDRINUSE, EACCES, …). Returns the bound port. */
export function probePort(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address ? address.port : port
      server.close(() => resolve(bound))
    })
  })
}

/** `preferred` when it can be bound on host (0 or above 65535: none preferred), else a free port. */
export async function portNear(preferred: number, host: string): Promise<{ port: number; moved: boolean }> {
  if (preferred > 0 && preferred <= 65535) {
    try {
      return { port: await probePort(preferred, host), moved: false }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err
    }
  }
  return { port: await probePort(0, host), moved: preferred > 0 && preferred <= 65535 }
}
