// A gate in front of an ad platform's stub that lets the platform take a request but, while held,
// keeps its answer from the caller: what a collector sees when it dies mid-delivery, after the
// platform counted the conversion and before the answer came back. Released, it answers at once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

export interface AnswerGate {
  url: string
  /** While true, answers are parked (the caller waits); set false to answer them and pass the rest. */
  held: boolean
  /** Answers parked so far (requests the platform took while held). */
  parked: number
  close(): Promise<void>
}

export async function startAnswerGate(target: string): Promise<AnswerGate> {
  const waiting: Array<{ res: ServerResponse; answer: () => void }> = []
  const gate: AnswerGate = { url: '', held: true, parked: 0, close: async () => undefined }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v
      const r = await fetch(target + (req.url ?? '/'), { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined })
      const body = Buffer.from(await r.arrayBuffer())
      const answer = () => {
        if (res.destroyed) return
        res.writeHead(r.status, Object.fromEntries([...r.headers].filter(([k]) => k !== 'content-length' && k !== 'transfer-encoding')))
        res.end(body)
      }
      if (gate.held) {
        gate.parked++
        waiting.push({ res, answer })
      } else answer()
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  gate.url = `http://127.0.0.1:${address.port}`
  gate.close = () => new Promise<void>((resolve) => {
    for (const w of waiting) w.res.destroy()
    server.closeAllConnections()
    server.close(() => resolve())
  })
  return gate
}
