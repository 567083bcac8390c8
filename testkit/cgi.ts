// The CGI side of the stand-ins' `git http-backend`: its header block parsed into the HTTP answer,
// the rest streamed to the client with backpressure, and its stderr kept for a failure message.
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import type * as http from 'node:http'

export function parseCgiHeaders(text: string): {
  status: number
  headers: Record<string, string[]>
} {
  let status = 200
  const headers: Record<string, string[]> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500
    else (headers[name] ??= []).push(value)
  }
  return { status, headers }
}

export function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n')
  const lf = buffer.indexOf('\n\n')
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 }
  if (lf >= 0) return { at: lf, length: 2 }
  return undefined
}

export interface CgiRelay {
  /** Whether the header block arrived and the HTTP answer started. */
  readonly started: boolean
  readonly status: number
  readonly headers: Record<string, string[]>
  /** Body bytes sent to the client. */
  readonly bytes: number
  /** What the backend wrote to stderr (the first 64 KiB). */
  readonly stderr: string
}

/** Relays a CGI child's output to `res`; `onBody` sees each body chunk as it is sent. */
export function relayCgi(
  child: ChildProcessWithoutNullStreams,
  res: http.ServerResponse,
  onBody: (chunk: Buffer) => void = () => undefined
): CgiRelay {
  const relay = {
    started: false,
    status: 500,
    headers: {} as Record<string, string[]>,
    bytes: 0,
    stderr: ''
  }
  let head: Buffer = Buffer.alloc(0)
  const send = (chunk: Buffer) => {
    if (chunk.length === 0) return
    relay.bytes += chunk.length
    onBody(chunk)
    if (!res.write(chunk)) {
      child.stdout.pause()
      res.once('drain', () => child.stdout.resume())
    }
  }
  child.stdout.on('data', (chunk: Buffer) => {
    if (relay.started) return send(chunk)
    head = Buffer.concat([head, chunk])
    const end = headerEnd(head)
    if (!end) return
    const parsed = parseCgiHeaders(head.subarray(0, end.at).toString('latin1'))
    relay.status = parsed.status
    relay.headers = parsed.headers
    res.writeHead(relay.status, parsed.headers)
    relay.started = true
    send(head.subarray(end.at + end.length))
  })
  child.stderr.on('data', (chunk: Buffer) => {
    if (relay.stderr.length < 64 * 1024) relay.stderr += chunk.toString()
  })
  child.on('error', error => (relay.stderr += String(error)))
  res.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    // A client gone mid-answer: the backend's own children (upload-pack) still hold the pipe, and
    // only closing our end ends them (SIGPIPE) instead of leaving them blocked on a paused stream.
    if (!res.writableFinished) child.stdout.destroy()
  })
  return relay
}
