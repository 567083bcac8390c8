// Every code a printed error or warning ends with (` [BB401]`), and its title: each is the anchor of
// an entry in docs/troubleshooting.md, which e2e/error-catalogue.test.ts keeps in step with this list.

/**
 * Code → the title of its entry. A family per area, numbered from 001; where an HTTP status says it
 * best the number is the status (BB401, GIT403). A code, once released, keeps its meaning.
 */
export const CODES = {
  // Inputs, checked before any request.
  IN001: 'An input has a value it does not take',
  IN002: 'A required input is empty',
  IN003: 'Inputs that do not go together',
  IN004: 'A URL input that could leak a credential',
  // The Bitbucket credential and the REST API.
  BB001: 'App passwords no longer work',
  BB002: 'The OAuth consumer was rejected',
  BB003: 'No OAuth access token could be obtained',
  BB004: 'Bitbucket could not be reached',
  BB005: 'A request to another host was not sent',
  BB006: 'Bitbucket answered an unexpected error',
  BB401: 'Bitbucket rejected the credential',
  BB403: 'The credential lacks a read scope',
  BB404: 'The workspace or the API base was not found',
  BB405: 'The credential lacks a write scope',
  BB410: 'Bitbucket removed the endpoint',
  BB429: "Bitbucket's rate limit was still exceeded",
  // Git transfers from Bitbucket, and pushes anywhere.
  GIT001: 'git failed',
  GIT002: 'Verification found damage',
  GIT010: 'A push failed',
  GIT301: 'Bitbucket redirected git elsewhere',
  GIT401: 'Bitbucket rejected the credential for git',
  GIT403: 'The credential may not read the repository over git',
  GIT404: 'The repository was not found over git',
  // Git LFS.
  LFS001: 'LFS objects missing or damaged after the fetch',
  LFS002: 'LFS objects missing on Bitbucket itself',
  // The runner's disk.
  DISK001: "The runner's disk filled up",
  DISK002: 'Not enough disk for the repository',
  // The artifact target and the Actions cache.
  ART001: 'An artifact was not uploaded',
  ART002: 'The artifact index was not uploaded',
  ART003: 'An artifact of that name exists in this run',
  ART004: 'A private repository is not uploaded from a public repository unencrypted',
  CACHE001: 'The Actions cache is failing',
  CACHE002: 'A cache entry could not be restored',
  CACHE003: 'A cache entry could not be saved',
  // The GitHub target (and pushes a restore makes to GitHub).
  GH001: "Files over GitHub's file size limit",
  GH002: 'A commit needs a push larger than the server takes',
  GH003: 'github-token was rejected',
  GH004: 'The GitHub owner was not found',
  GH005: 'The token cannot create repositories there',
  GH006: 'A repository of that name exists that the token cannot see',
  GH007: 'Not a valid GitHub repository name',
  GH008: 'A repository of that name exists that bitbucket-backup did not create',
  GH009: 'Internal visibility in a user account',
  GH010: 'GitHub answered an unexpected error',
  GH011: 'The metadata archive is not on the GitHub mirror',
  GH012: "A Download over GitHub's release asset limit",
  GH014: 'The Downloads release was not updated',
  GH013: 'A push policy refused the push',
  GH403: 'The token may not push to the repository',
  // The directory target.
  DIR001: 'backup-dir could not be written',
  // The state of the last runs.
  ST001: 'The state from the cache could not be read',
  ST002: 'The state could not be saved',
  ST003: 'The state file has an unknown format',
  // Pull requests, Downloads and what else Bitbucket keeps beyond git.
  MD001: 'A kind of metadata is not collected yet',
  MD002: 'Metadata deferred to the next run',
  MD003: 'An item of metadata was not kept',
  MD403: 'Metadata refused for a missing scope',
  // Sharding.
  SH001: 'No shard index in this run',
  SH002: 'The plan was not handed to the shards',
  // Restore and verify.
  RS001: 'No backup of a selected repository was found',
  RS002: 'The destination repository is not empty',
  RS003: 'The backup is encrypted',
  RS004: 'The backup is damaged',
  RS005: "The destination's refs differ after the push",
  RS006: 'The restore destination is incomplete or unsafe',
  RS007: 'The backups could not be reached',
  RS008: 'No backup of that point in time',
  RS009: 'A secret to enter again after a restore',
  RS010: 'A part of the metadata was not restored',
  RS011: 'A restored snippet keeps the branch Bitbucket created it with',
  // The run as a whole.
  TIME001: 'Repositories deferred at time-limit',
  TIME002: 'The run was cancelled',
  RUN001: 'An unexpected error'
} as const

export type Code = keyof typeof CODES

/** A code as messages print it: ` [BB401]`, anywhere in a line. */
const CODE_IN_TEXT = /\s?\[([A-Z]{2,5}\d{3})\]/g

export function isCode(value: unknown): value is Code {
  return typeof value === 'string' && Object.hasOwn(CODES, value)
}

/** The message without any code it carries (to wrap it under a code of its own). */
export function withoutCode(message: string): string {
  return message.replace(CODE_IN_TEXT, (whole, code: string) => (isCode(code) ? '' : whole))
}

/** `message [CODE]`: the line a user sees, ending with the anchor of its entry. */
export function coded(code: Code, message: string): string {
  return `${withoutCode(message)} [${code}]`
}

/** The message as it is when it names a code already, else with `fallback`. */
export function ensureCoded(fallback: Code, message: string): string {
  return codeOf(message) ? message : coded(fallback, message)
}

/**
 * The first code a message (or an error's first line, or the error it wraps) names; undefined when
 * none does.
 */
export function codeOf(subject: unknown): Code | undefined {
  if (subject instanceof CodedError) return subject.code
  const text =
    typeof subject === 'string' ? subject : subject instanceof Error ? subject.message : undefined
  for (const match of (text ?? '').split('\n')[0].matchAll(CODE_IN_TEXT)) {
    if (isCode(match[1])) return match[1]
  }
  return subject instanceof Error && subject.cause !== undefined ? codeOf(subject.cause) : undefined
}

/** An error whose message ends with its code: `throw new CodedError('GH001', '...')`. */
export class CodedError extends Error {
  override name = 'CodedError'
  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions
  ) {
    super(coded(code, message), options)
  }
}

/** The catalogue as published with the action: the job summary links each code to its entry. */
export const CATALOGUE_URL =
  'https://github.com/bitbucket-backup/bitbucket-backup/blob/main/docs/troubleshooting.md'

/** Where a code's entry is: what it means, the usual cause, the fix. */
export function entryUrl(code: Code): string {
  return `${CATALOGUE_URL}#${code}`
}
