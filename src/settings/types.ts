// The one typed settings object that every other module reads instead of action inputs.

export type TargetKind = 'artifact' | 'github' | 'directory'

import type { BitbucketCredentialInput } from '../credentials/types.js'

export type { BitbucketCredentialInput }

export interface EncryptionSettings {
  /** An age passphrase (scrypt), or else X25519 recipients (age1...). */
  passphrase?: string
  recipients: string[]
}

export interface ArtifactSettings {
  /** Days each artifact is kept: the input, capped by the repository's own setting. */
  retentionDays: number
  /** Most artifacts this step may upload (the service allows 500 per job). */
  maxArtifacts: number
  encryption: EncryptionSettings | undefined
  /** Anyone signed in to GitHub can download the artifacts of a public repository. */
  publicWorkflowRepository: boolean
  runId: string
  runAttempt: string
  /** The shard label (e.g. 1of4) in a matrix: artifact names then never collide across jobs. */
  shard?: string
}

/** What a repository holds beyond git that the backup may keep (the `metadata` input). */
export type MetadataKind = 'pull-requests' | 'downloads' | 'snippets' | 'settings'
export const METADATA_KINDS: readonly MetadataKind[] = [
  'pull-requests',
  'downloads',
  'snippets',
  'settings'
]

export interface MetadataSettings {
  /** The kinds asked for, in METADATA_KINDS order; empty with `none`. */
  kinds: MetadataKind[]
  /** REST requests per hour this action may spend. */
  restBudget: number
}

export type GitHubVisibility = 'private' | 'internal' | 'public'

export interface GitHubSettings {
  token: string
  /** Organization or user login that owns the mirrors. */
  owner: string
  /** REST API base without a trailing slash: https://api.github.com or https://HOST/api/v3. */
  apiUrl: string
  /** Name of each mirror, with {workspace}, {slug} and {project} placeholders. */
  nameTemplate: string
  visibility: GitHubVisibility
  /** Push into an existing repository that the action did not create. */
  overwrite: boolean
  /** Largest pack one push may send; bigger pushes are split. */
  maxPushBytes: number
  /** Largest file the server accepts; bigger blobs fail the repository before any push. */
  maxFileBytes: number
  /** Most refs one push may update (a push policy); 0 when unlimited. */
  refsPerPush: number
}

/** backup: back up (all, or one shard); plan: list once and output the shard matrix; index: merge the shards' artifact indexes. */
export type RunMode = 'backup' | 'plan' | 'index'

/** One shard of a matrix: repositories whose uuid hashes to `index` (1-based) of `count`. */
export interface ShardSettings {
  index: number
  count: number
}

export interface Settings {
  /** Workspace slugs, deduplicated, in the order given. */
  workspaces: string[]
  credential: BitbucketCredentialInput
  /** REST API base without a trailing slash, e.g. https://api.bitbucket.org/2.0 */
  apiUrl: string
  /** OAuth token endpoint (client-credentials grant). */
  oauthTokenUrl: string
  /** Glob patterns on the repository slug; empty include means all. */
  include: string[]
  exclude: string[]
  /** Project keys; empty means all projects. */
  projects: string[]
  targets: TargetKind[]
  mode: RunMode
  /** plan mode: how many shards the matrix gets. */
  shards: number
  /** backup mode in a matrix: the shard this job backs up. */
  shard: ShardSettings | undefined
  /** Absolute path; required for the directory target. */
  backupDir: string
  concurrency: number
  lfs: boolean
  /** List and plan only: nothing is cloned or written except the report. */
  dryRun: boolean
  /** Persist state and mirrors between runs through the Actions cache. */
  cache: boolean
  /** Upper bound on the bytes of mirrors saved to the Actions cache in one run. */
  cacheSizeLimitBytes: number
  /** Where the action keeps its working copies during a run (under RUNNER_TEMP). */
  workDir: string
  /** Read every mirror on disk back in full after the backup (git fsck, every LFS object). */
  verify: boolean
  /** Seconds after which no new repository starts (what is in flight finishes); undefined: none. */
  timeLimitSeconds: number | undefined
  /** Fail the step when a repository is incomplete (LFS objects missing on Bitbucket). */
  failOnIncomplete: boolean
  /** Path of the JSON report. */
  reportPath: string
  artifact: ArtifactSettings
  /** Present when target includes github. */
  github: GitHubSettings | undefined
  metadata: MetadataSettings
}
