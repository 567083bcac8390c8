// Injected failures as Bitbucket's edge sends them: JSON 500s, plain-text 429s, HTML 502s and resets.
import type * as http from 'node:http'
import type { FaultKind, GitFaultKind, GitRequest, State } from './types.js'

export function errorBody(message: string, detail?: unknown): string {
  return JSON.stringify({ type: 'error', error: { message, ...(detail ? { detail } : {}) } })
}

/** Answers with the fault (or resets the connection) and returns the status to log, 0 for a reset. */
export function sendFault(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  kind: FaultKind | GitFaultKind,
  retryAfterSeconds?: number
): { status: number; bytes: number } {
  if (kind === 'reset') {
    req.socket.destroy()
    return { status: 0, bytes: 0 }
  }
  const [status, type, text, headers]: [number, string, string, Record<string, string>] =
    kind === '500'
      ? [500, 'application/json', errorBody('Something went wrong'), {}]
      : kind === '502-html'
        ? [502, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>', {}]
        : kind === '413'
          ? [413, 'text/plain', 'Request Entity Too Large', {}]
          : [
              429,
              'text/plain',
              'Rate limit for this resource has been exceeded',
              kind === '429-retry-after' ? { 'Retry-After': String(retryAfterSeconds ?? 1) } : {}
            ]
  res.writeHead(status, { 'Content-Type': type, ...headers }).end(text)
  return { status, bytes: Buffer.byteLength(text) }
}

/** Takes the first queued git fault whose path pattern matches; answers and logs it. */
export function takeGitFault(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  entry: Omit<GitRequest, 'status' | 'responseBytes'>
): boolean {
  const index = state.gitFaults.findIndex(fault => {
    if (fault.path) fault.path.lastIndex = 0
    return !fault.path || fault.path.test(entry.path)
  })
  if (index < 0) return false
  const [fault] = state.gitFaults.splice(index, 1)
  const { status, bytes } = sendFault(req, res, fault.kind)
  state.gitRequests.push({ ...entry, status, responseBytes: bytes })
  return true
}
