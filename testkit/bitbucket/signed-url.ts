// Short-lived signed URLs for the hosts the REST API redirects to (the diff host, the Downloads
// storage): the redirect is the only credential they take, so a client must follow it without its own.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type * as http from 'node:http'
import type { State, StorageRequest } from './types.js'

const LIFETIME_SECONDS = 900

function signature(state: State, fields: string[]): string {
  return createHmac('sha256', state.signingKey).update(fields.join('\n')).digest('hex')
}

/** `exp` and `sig` query values covering `fields`. */
export function signFields(state: State, fields: string[]): { exp: string; sig: string } {
  const exp = String(Math.floor(Date.now() / 1000) + LIFETIME_SECONDS)
  return { exp, sig: signature(state, [...fields, exp]) }
}

export type Verdict = 'valid' | 'expired' | 'forged'

export function checkSignature(state: State, fields: string[], exp: string, sig: string): Verdict {
  const expected = Buffer.from(signature(state, [...fields, exp]))
  const given = Buffer.from(sig)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged'
  return Number(exp) * 1000 > Date.now() ? 'valid' : 'expired'
}

/** Logs a request to one of those hosts, with whether it carried an Authorization header. */
export function logStorage(
  state: State,
  host: StorageRequest['host'],
  req: http.IncomingMessage,
  url: URL,
  status: number
) {
  state.storageRequests.push({
    host,
    method: req.method ?? 'GET',
    path: `${url.pathname}${url.search}`,
    status,
    authorization: Boolean(req.headers.authorization)
  })
}
