// HTTP plumbing for the local GitHub: servers that hand requests on unread (a push body is streamed,
// never held whole), a bounded body reader for the small JSON requests, and JSON answers.
import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void

export interface Listening {
  server: http.Server
  origin: string
}

/** A loopback server that waits `latencyMs` before each request and leaves its body to the handler. */
export async function listen(
  sockets: Set<Socket>,
  latencyMs: number,
  handler: Handler
): Promise<Listening> {
  let origin = ''
  const server = http.createServer((req, res) => {
    if (!server.listening) return void req.socket.destroy()
    const url = new URL(req.url ?? '/', origin)
    const go = () => {
      if (!server.listening) return void req.socket.destroy()
      try {
        handler(req, res, url)
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { message: `local GitHub: ${String(error)}` })
        else res.destroy()
      }
    }
    if (latencyMs > 0) setTimeout(go, latencyMs)
    else go()
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { server, origin }
}

/** Reads a request body of at most `limit` bytes; a larger one rejects (the caller answers 413). */
export function readBody(req: http.IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(new Error(`request body over ${limit} bytes`))
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Parses a JSON object body; anything else is undefined. */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return {}
  try {
    const value: unknown = JSON.parse(body.toString('utf8'))
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json; charset=utf-8'
): number {
  const text = JSON.stringify(value)
  res
    .writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(text),
      ...headers
    })
    .end(text)
  return status
}

export function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {}
): number {
  res
    .writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...headers
    })
    .end(text)
  return status
}
