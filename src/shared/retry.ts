// A generic backoff policy: exponential with full jitter, Retry-After, and a bound on the total wait.

export interface BackoffOptions {
  baseMs: number
  maxMs: number
  random?: () => number
}

/** Delay before retry number `attempt` (1-based): a random share of base * 2^(attempt-1), capped. */
export function retryDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1))
  const random = options.random ?? Math.random
  // Half fixed, half random: never hammer a rolling rate-limit window, never synchronise clients.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** Retry-After as milliseconds: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(
  header: string | null | undefined,
  now = Date.now()
): number | undefined {
  if (!header) return undefined
  const value = header.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

export const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))
