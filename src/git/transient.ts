// Git and git-lfs failures worth another try (rate limits, server errors, dropped connections).
import { messageOf } from '../shared/errors.js'
import { retryDelay, sleep } from '../shared/retry.js'
import { GitError } from './git.js'

const TRANSIENT_PATTERNS = [
  /returned error: (429|5\d\d)/i,
  /HTTP (429|5\d\d)/i,
  /\b(429|500|502|503|504) (Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)/i,
  /rate limit/i,
  /connection (was )?reset/i,
  /early EOF/i,
  /RPC failed/i,
  /unexpected disconnect/i,
  /the remote end hung up/i,
  /Empty reply from server/i,
  /Failed to connect/i,
  /Could not resolve host/i,
  /timed out/i,
  /LFS: .*(server error|Fatal error: Server error|Bad Gateway|Service Unavailable)/i
]

const PERMANENT_PATTERNS = [/returned error: (401|403|404|410)/i, /Authentication failed/i]

function isTransientGitFailure(error: unknown): boolean {
  if (!(error instanceof GitError)) return false
  const text = `${error.message}\n${error.stderr}`
  if (PERMANENT_PATTERNS.some(pattern => pattern.test(text))) return false
  return TRANSIENT_PATTERNS.some(pattern => pattern.test(text))
}

export interface GitRetryOptions {
  attempts: number
  baseMs: number
  log?: (line: string) => void
}

/** Git's HTTP traffic counts against Bitbucket's hourly budget too: a few tries, growing pauses. */
export const DEFAULT_GIT_RETRY: GitRetryOptions = { attempts: 4, baseMs: 2000 }

export async function withGitRetry<T>(
  what: string,
  action: () => Promise<T>,
  options: GitRetryOptions = DEFAULT_GIT_RETRY
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action()
    } catch (error) {
      if (attempt >= options.attempts || !isTransientGitFailure(error)) throw error
      const delay = retryDelay(attempt, { baseMs: options.baseMs, maxMs: 30_000 })
      options.log?.(
        `${what} failed (${messageOf(error)}); retry ${attempt} of ${options.attempts - 1} in ${Math.round(delay / 100) / 10} s`
      )
      await sleep(delay)
    }
  }
}
