// When a repository's metadata is looked at beyond the daily pull request probe: a full pass over its
// pull requests, a check of its Downloads and a read of its settings, each on a rotating day of its own (a hash of its uuid)
// so a workspace's repositories never all fall due on the same day.
import { createHash } from 'node:crypto'

const DAY_MS = 86_400_000
/** A new comment or approval may not move a pull request's `updated_on` (UNCONFIRMED): recheck all. */
export const FULL_PASS_DAYS = 30
/** Downloads are checked when git or pull requests changed, and otherwise every this many days. */
export const DOWNLOADS_DAYS = 14
/** Settings change rarely and cost about 20 requests: read every this many days (~3 a day each). */
export const SETTINGS_DAYS = 7

const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/

/**
 * A time as BBQL takes it: unquoted ISO 8601 with an offset, never a trailing `Z` (which Bitbucket
 * rejects); the fraction is kept as given, so `>` the newest `updated_on` seen leaves that one out.
 */
export function bbqlDate(time: string): string {
  const match = ISO_TIME.exec(time.trim())
  if (!match) throw new Error(`not an ISO 8601 time: ${time}`)
  const offset = match[2] ?? 'Z'
  const normal = offset === 'Z' ? '+00:00' : offset.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')
  return `${match[1]}${normal}`
}

/** The repository's own day in a cycle of `days`. */
function slotOf(uuid: string, days: number): number {
  return createHash('sha256').update(uuid).digest().readUInt32BE(0) % days
}

/**
 * Due when never done, on the repository's own day of the cycle (at most once a day), or when a
 * missed day left it older than one cycle.
 */
export function rotationDue(
  uuid: string,
  last: string | undefined,
  days: number,
  now: Date
): boolean {
  const at = last ? Date.parse(last) : NaN
  if (Number.isNaN(at)) return true
  const age = now.getTime() - at
  if (age >= (days + 1) * DAY_MS) return true
  const today = Math.floor(now.getTime() / DAY_MS) % days
  return today === slotOf(uuid, days) && age >= DAY_MS - 3600_000
}
