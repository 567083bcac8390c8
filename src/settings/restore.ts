// The restore's inputs → one typed RestoreRequest, through the backup's parsers: every problem is one
// line naming the input and the fix, before any network call. The command line feeds the same parser.
import * as path from 'node:path'
import { maskGitHubToken } from '../credentials/credentials.js'
import {
  DEFAULT_API_URL,
  DEFAULT_CONCURRENCY,
  DEFAULT_GITHUB_API_URL
} from '../shared/constants.js'
import {
  fail,
  parseBoolean,
  parseGlobs,
  parseInteger,
  parseUrl,
  readSecret,
  type InputSource
} from './parse.js'
import { parseMetadataWords } from './metadata.js'

export const RestoreInputs = {
  From: 'from',
  RunId: 'run-id',
  Token: 'github-token',
  Repositories: 'repositories',
  To: 'to',
  ToUsername: 'to-username',
  ToPassword: 'to-password',
  BitbucketWorkspace: 'bitbucket-workspace',
  BitbucketEmail: 'bitbucket-email',
  BitbucketApiToken: 'bitbucket-api-token',
  BitbucketAccessToken: 'bitbucket-access-token',
  BitbucketApiUrl: 'bitbucket-api-url',
  GitHubOwner: 'github-owner',
  GitHubApiUrl: 'github-api-url',
  DestinationToken: 'destination-github-token',
  At: 'at',
  Overwrite: 'overwrite',
  Concurrency: 'concurrency',
  EncryptionPassphrase: 'encryption-passphrase',
  EncryptionIdentity: 'encryption-identity',
  Metadata: 'metadata',
  ReopenPullRequests: 'reopen-pull-requests'
} as const

export const RestoreOutputs = { Restored: 'restored', Failed: 'failed' } as const

/** What a restore brings back beyond git (into Bitbucket): the backup's `metadata` words it can write. */
export const RESTORABLE_METADATA = ['settings', 'downloads'] as const
export type RestorableMetadata = (typeof RESTORABLE_METADATA)[number]

/** Why a backup word is not restorable: pull requests and snippets are kept, not written back. */
function notRestorable(word: string): string {
  if (word === 'pull-requests')
    return '"pull-requests" cannot be restored (their archived HTML and JSON are the record); reopen-pull-requests opens the open ones anew'
  if (word === 'snippets') return '"snippets" belong to the workspace, not to a repository restore'
  return `"${word}" is not something a restore brings back`
}

export const GITHUB_SOURCE_PREFIX = 'github:'
const ARTIFACT_SOURCE = 'artifact'

/** Where a restore writes, with the secrets of each kind of destination. */
export interface DestinationRequest {
  to?: string
  bitbucketWorkspace?: string
  githubOwner?: string
  bitbucketApiUrl: string
  githubApiUrl: string
  secrets: {
    bitbucketEmail?: string
    bitbucketApiToken?: string
    bitbucketAccessToken?: string
    githubToken?: string
    toUsername?: string
    toPassword?: string
  }
}

/** Where a restore reads: this repository's backup artifacts, GitHub mirrors, or a path. */
export type RestoreSource =
  | {
      kind: 'artifact'
      token: string
      /** owner/name of the repository whose workflow made the backups. */
      repository: string
      apiUrl: string
      /** A backup run's id, or undefined for the newest. */
      runId?: number
    }
  | { kind: 'github'; owner: string; token: string; apiUrl: string }
  | { kind: 'path'; path: string }

export interface RestoreRequest {
  source: RestoreSource
  /** `from` as given, for messages. */
  from: string
  /** Glob patterns on the slug; empty means all. */
  repositories: string[]
  destination: DestinationRequest
  /** Point in time (backup directories): upstream's refs as the backup knew them then. */
  at: Date | undefined
  overwrite: boolean
  /** How many repositories are restored at the same time. */
  concurrency: number
  keys: { passphrase?: string; identities?: string[] }
  /** What to bring back beyond git, into a Bitbucket destination (default: all of it). */
  metadata: RestorableMetadata[]
  /** Open each archived OPEN pull request anew (Bitbucket destinations). */
  reopenPullRequests: boolean
}

export interface RestoreParseOptions {
  /** `from: artifact` means this repository's workflow artifacts (the action, which has a token for them). */
  artifacts: boolean
  /** Where a relative `from` path starts. */
  baseDir: string
}

function parseTime(input: string, raw: string): Date | undefined {
  const value = raw.trim()
  if (!value) return undefined
  const time = new Date(value)
  if (Number.isNaN(time.getTime()))
    fail(input, `"${value}" is not a time`, 'expected e.g. 2026-11-20T00:00:00Z')
  return time
}

function parseRunId(raw: string): number | undefined {
  const value = raw.trim()
  if (!value) return undefined
  if (!/^\d+$/.test(value))
    fail(
      RestoreInputs.RunId,
      `"${value}" is not a run id`,
      'expected the number in .../actions/runs/<id>'
    )
  return Number(value)
}

function apiUrl(source: InputSource, input: string, fallback: string): string {
  return parseUrl(input, source.get(input).trim() || fallback).href.replace(/\/+$/, '')
}

/** The age identities in a key file as pasted or read (comments and blank lines dropped). */
export function ageIdentities(text: string): string[] {
  return text.split(/\s+/).filter(line => line.startsWith('AGE-SECRET-KEY-'))
}

function identitiesOf(source: InputSource): string[] | undefined {
  const text = readSecret(source, RestoreInputs.EncryptionIdentity)
  if (!text) return undefined
  const identities = ageIdentities(text)
  for (const identity of identities) source.mask(identity)
  return identities
}

function parseSource(
  source: InputSource,
  from: string,
  token: string,
  githubApiUrl: string,
  options: RestoreParseOptions
): RestoreSource {
  if (from.startsWith(GITHUB_SOURCE_PREFIX)) {
    const owner = from.slice(GITHUB_SOURCE_PREFIX.length).trim()
    if (!owner) {
      fail(
        RestoreInputs.From,
        `"${from}" needs an owner`,
        'expected the organization or user that holds the mirrors, e.g. github:my-org-mirrors'
      )
    }
    if (!token)
      fail(
        RestoreInputs.Token,
        'is empty',
        `it reads the mirrors of ${from} (contents: read)`,
        'IN002'
      )
    return { kind: 'github', owner, token, apiUrl: githubApiUrl }
  }
  if (from === ARTIFACT_SOURCE && options.artifacts) {
    if (!token)
      fail(
        RestoreInputs.Token,
        'is empty',
        'it reads the backup artifacts (actions: read)',
        'IN002'
      )
    return {
      kind: 'artifact',
      token,
      repository: source.env.GITHUB_REPOSITORY ?? '',
      apiUrl: source.env.GITHUB_API_URL || DEFAULT_GITHUB_API_URL,
      runId: parseRunId(source.get(RestoreInputs.RunId))
    }
  }
  return { kind: 'path', path: path.resolve(options.baseDir, from) }
}

/** Every secret, masked as soon as it is read: before any input can fail. */
function readSecrets(source: InputSource) {
  const secret = (input: string) => readSecret(source, input) || undefined
  const token = secret(RestoreInputs.Token)
  if (token) maskGitHubToken(token, source.mask)
  return {
    token: token ?? '',
    passphrase: secret(RestoreInputs.EncryptionPassphrase),
    identities: identitiesOf(source),
    bitbucketApiToken: secret(RestoreInputs.BitbucketApiToken),
    bitbucketAccessToken: secret(RestoreInputs.BitbucketAccessToken),
    githubToken: secret(RestoreInputs.DestinationToken),
    toPassword: secret(RestoreInputs.ToPassword)
  }
}

/** Reads and validates every restore input; throws SettingsError before anything touches the network. */
export function parseRestoreRequest(
  source: InputSource,
  options: RestoreParseOptions
): RestoreRequest {
  const secrets = readSecrets(source)
  const get = (input: string) => source.get(input).trim() || undefined
  const from = get(RestoreInputs.From) ?? (options.artifacts ? ARTIFACT_SOURCE : '')
  if (!from) {
    fail(
      RestoreInputs.From,
      'is required',
      `expected a backup directory, a folder of downloaded artifacts or ${GITHUB_SOURCE_PREFIX}OWNER`,
      'IN002'
    )
  }
  const githubApiUrl = apiUrl(source, RestoreInputs.GitHubApiUrl, DEFAULT_GITHUB_API_URL)
  return {
    source: parseSource(source, from, secrets.token, githubApiUrl, options),
    from,
    repositories: parseGlobs(RestoreInputs.Repositories, source.get(RestoreInputs.Repositories)),
    destination: {
      to: get(RestoreInputs.To),
      bitbucketWorkspace: get(RestoreInputs.BitbucketWorkspace),
      githubOwner: get(RestoreInputs.GitHubOwner),
      bitbucketApiUrl: apiUrl(source, RestoreInputs.BitbucketApiUrl, DEFAULT_API_URL),
      githubApiUrl,
      secrets: {
        bitbucketEmail: get(RestoreInputs.BitbucketEmail),
        bitbucketApiToken: secrets.bitbucketApiToken,
        bitbucketAccessToken: secrets.bitbucketAccessToken,
        githubToken: secrets.githubToken,
        toUsername: get(RestoreInputs.ToUsername),
        toPassword: secrets.toPassword
      }
    },
    at: parseTime(RestoreInputs.At, source.get(RestoreInputs.At)),
    overwrite: parseBoolean(RestoreInputs.Overwrite, source.get(RestoreInputs.Overwrite), false),
    concurrency: parseInteger(
      RestoreInputs.Concurrency,
      source.get(RestoreInputs.Concurrency),
      DEFAULT_CONCURRENCY,
      1,
      64
    ),
    keys: { passphrase: secrets.passphrase, identities: secrets.identities },
    metadata: parseMetadataWords(
      RestoreInputs.Metadata,
      source.get(RestoreInputs.Metadata).trim() || 'all',
      RESTORABLE_METADATA,
      notRestorable
    ),
    reopenPullRequests: parseBoolean(
      RestoreInputs.ReopenPullRequests,
      source.get(RestoreInputs.ReopenPullRequests),
      false
    )
  }
}
