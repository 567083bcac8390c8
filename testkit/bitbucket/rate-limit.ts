// Bitbucket's REST rate limit (REFERENCE.md, limits): requests per rolling hour per user, token or
// consumer; over it, 429 with a plain-text body and no Retry-After. Refused requests count too, so
// retrying every few seconds keeps the window full. `X-RateLimit-Limit`, `X-RateLimit-Resource` and
// `X-RateLimit-NearLimit` go only to access-token requests. The limit is enforced only when set:
// test runs make thousands of requests per credential within minutes.
import type { Identity } from './auth.js'

const HOUR_MS = 3_600_000
export const DEFAULT_LIMIT = 1000
export const RATE_LIMITED = 'Rate limit for this resource has been exceeded'

export interface RateLimiter {
  /** Requests per rolling hour; undefined: counted against the default, never refused. */
  perHour: number | undefined
  /** Counts one request; whether it is refused and the headers to send. */
  take(
    identity: Identity,
    authorization: string
  ): { refused: boolean; headers: Record<string, string> }
}

export function createRateLimiter(perHour?: number, now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, number[]>()
  const limiter: RateLimiter = {
    perHour,
    take(identity, authorization) {
      // A user's API tokens share one budget; each access token and OAuth token has its own.
      const key =
        identity.kind === 'api-token' ? `user:${identity.email}` : `token:${authorization}`
      const at = now()
      const window = (windows.get(key) ?? []).filter(time => time > at - HOUR_MS)
      window.push(at)
      windows.set(key, window)
      const limit = limiter.perHour ?? DEFAULT_LIMIT
      const refused = limiter.perHour !== undefined && window.length > limit
      const headers: Record<string, string> =
        identity.kind === 'access-token'
          ? {
              'X-RateLimit-Limit': String(limit),
              'X-RateLimit-Resource': 'api',
              'X-RateLimit-NearLimit': String(limit - window.length < limit * 0.2)
            }
          : {}
      return { refused, headers }
    }
  }
  return limiter
}
