// The REST budget: every request this run sends counted in a rolling hour, Bitbucket's own signals
// (X-RateLimit-*, a 429) read as they come, and metadata refused once it is spent, so the listing
// (what git backups need) always has its share.

const HOUR_MS = 3_600_000

/** What a request is for: the listing is never refused; metadata waits for the next run. */
export type RestPurpose = 'git' | 'metadata'

/** A metadata request the budget did not let through: the repository's metadata waits. */
export class BudgetSpentError extends Error {
  override name = 'BudgetSpentError'
}

export interface RestBudget {
  /** Requests per hour the action may spend (rest-budget), lowered by X-RateLimit-Limit. */
  readonly perHour: number
  /** Requests sent in the last hour, retries included. */
  readonly spent: number
  /** Why metadata stopped for this run (a 429, X-RateLimit-NearLimit), when it did. */
  readonly halted: string | undefined
  /** Whether `requests` more metadata requests fit now (`stale`: a repository deferred before). */
  affords(requests: number, stale?: boolean): boolean
  /** Counts one request; a metadata one is refused with BudgetSpentError when none is left. */
  take(purpose: RestPurpose): void
  /** Reads an answer's status and rate-limit headers. */
  observe(status: number, headers: Headers): void
  /** Keeps `requests` for the listing's pages still to come. */
  reserveForListing(requests: number): void
  /** Keeps `requests` for repositories whose metadata was deferred last run (they go first). */
  reserveForStale(requests: number): void
}

export function createRestBudget(perHour: number, now: () => number = Date.now): RestBudget {
  const sent: number[] = []
  let limit = perHour
  let halted: string | undefined
  let listing = 0
  let stale = 0
  const spent = () => {
    const since = now() - HOUR_MS
    while (sent.length > 0 && sent[0] <= since) sent.shift()
    return sent.length
  }
  const fits = (requests: number, forStale: boolean) =>
    halted === undefined && spent() + requests + listing + (forStale ? 0 : stale) <= limit
  return {
    get perHour() {
      return limit
    },
    get spent() {
      return spent()
    },
    get halted() {
      return halted
    },
    affords: (requests, forStale = false) => fits(requests, forStale),
    take(purpose) {
      if (purpose === 'metadata') {
        if (!fits(1, true)) {
          throw new BudgetSpentError(
            halted ?? `the REST budget of ${limit} requests an hour is spent`
          )
        }
      } else listing = Math.max(0, listing - 1)
      sent.push(now())
    },
    observe(status, headers) {
      if (status === 429) halted = 'Bitbucket answered 429 (rate limit exceeded)'
      const stated = Number(headers.get('x-ratelimit-limit'))
      // Bitbucket's own number is for every client of this credential: leave a tenth to the others.
      if (Number.isInteger(stated) && stated > 0) limit = Math.min(limit, Math.floor(stated * 0.9))
      if (headers.get('x-ratelimit-nearlimit') === 'true') {
        halted ??= 'Bitbucket says the rate limit is near (X-RateLimit-NearLimit)'
      }
    },
    reserveForListing(requests) {
      listing = Math.max(0, requests)
    },
    reserveForStale(requests) {
      stale = Math.max(0, requests)
    }
  }
}
