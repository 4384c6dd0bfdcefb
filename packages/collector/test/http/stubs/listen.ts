// The one way every API stub goes on the air: a free port on 127.0.0.1 only, and a close that does
// not wait for a client's kept-alive connections (the collector's fetch keeps them open).

import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export async function listenLocal(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
