// Per-repository state between runs, keyed by uuid so a rename is followed.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { coded } from '../shared/codes.js'

const STATE_VERSION = 1

export interface RepositoryState {
  uuid: string
  workspace: string
  slug: string
  fullName: string
  projectKey: string | null
  /** SHA-256 over the sorted `<oid> <ref>` lines of every ref (refs/backup/ excluded). */
  fingerprint: string
  refs: number
  updatedOn: string
  /** ISO time of the last run that left a complete backup. */
  lastBackupAt: string
  /** ISO time of the last run that compared the backup with Bitbucket: the oldest go first. */
  checkedAt?: string
  /** True only when LFS objects were fetched and every one verified (false when lfs was off). */
  lfsComplete: boolean
  /** LFS objects the history points to that Bitbucket did not have (sorted by oid). */
  lfsMissing?: { oid: string; size: number }[]
  lfsObjects: number
  bytes: number
  empty: boolean
  /** Actions cache key of the newest saved mirror, when mirrors persist through the cache. */
  mirrorCacheKey?: string
  /** The newest workflow artifact that holds this repository (artifact target). */
  artifact?: ArtifactRecordState
  /** The GitHub mirror this repository was last pushed to (github target). */
  github?: GitHubMirrorState
  /** What the metadata increments need (absent in state files from before metadata). */
  metadata?: MetadataState
}

/** Where a repository's metadata archive stands: what the next run asks Bitbucket for. */
export interface MetadataState {
  /** The newest pull request `updated_on` archived: the next probe asks only for later ones. */
  pullRequestsSince?: string
  /** ISO time of the last complete pass over every pull request. */
  fullPassAt?: string
  /** ISO time Downloads were last compared with Bitbucket. */
  downloadsCheckedAt?: string
  /** SHA-256 over every Download's name, size and created_on as last archived. */
  downloadsDigest?: string
  /** A snippet's `updated_on` as last archived: a snippet listed with the same one is not asked again. */
  snippetUpdatedOn?: string
  /** ISO time a snippet's object and comments were last archived. */
  snippetCheckedAt?: string
  /** ISO time settings were last read completely (each endpoint answered, refused or absent). */
  settingsCheckedAt?: string
  /** The commit of refs/backup/metadata in the mirror: targets publish again when it moves. */
  commit?: string
  /** Set while the REST budget held this repository's metadata back: the next run serves it first. */
  deferred?: { since: string; fullPass?: boolean; settings?: boolean }
}

/** The metadata commit a target's record holds must equal the state's, or it is due again. */
export function metadataCommitOf(state: RepositoryState | undefined): string | undefined {
  return state?.metadata?.commit
}

export interface GitHubMirrorState {
  /** owner/name on the GitHub server. */
  repository: string
  /** owner/name as the inputs asked for it: GitHub may have rewritten the name it was given. */
  requested?: string
  /** The ref fingerprint the mirror holds: it is pushed again only when this differs. */
  fingerprint: string
  /** The metadata commit pushed with it (refs/backup/metadata), when there is one. */
  metadataCommit?: string
  /** The Downloads digest (MetadataState.downloadsDigest) the draft release "Bitbucket Downloads" holds. */
  downloadsRelease?: string
  pushedAt: string
  /** Whether every LFS object was pushed too. */
  lfs: boolean
}

export interface ArtifactRecordState {
  name: string
  id: number
  runId: string
  uploadedAt: string
  retentionDays: number
  /** The ref fingerprint the artifact holds: a new one is due when the repository changed. */
  fingerprint: string
  /** The metadata commit its bundle holds, when there is one: a new one makes it due. */
  metadataCommit?: string
  /** Whether the artifact holds every LFS object. */
  lfs: boolean
  /** LFS objects missing upstream when it was made: it is due again when one arrives. */
  lfsMissing?: number
  encrypted: boolean
  /** How it is protected (`none`, the recipients' or the passphrase's id): a change makes it due. */
  protection?: string
}

/** What the artifact target needs to know whether the passphrase changed, without keeping it. */
export interface ProtectionState {
  id: string
  /** A short text encrypted with the passphrase: it opens only with the same passphrase. */
  canary: string
}

export interface WorkspaceState {
  version: number
  workspace: string
  savedAt: string
  repositories: Record<string, RepositoryState>
  /** With encryption-passphrase: the passphrase's id and its canary. */
  passphrase?: ProtectionState
}

export function emptyState(workspace: string): WorkspaceState {
  return { version: STATE_VERSION, workspace, savedAt: '', repositories: {} }
}

/** Reads a state file; a missing or unreadable file means a first run (never a failed one). */
export async function readStateFile(file: string, workspace: string): Promise<WorkspaceState> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch {
    return emptyState(workspace)
  }
  const parsed = JSON.parse(text) as Partial<WorkspaceState>
  if (
    parsed.version !== STATE_VERSION ||
    typeof parsed.repositories !== 'object' ||
    !parsed.repositories
  ) {
    throw new Error(
      coded('ST003', `state file ${file} has an unknown format (version ${String(parsed.version)})`)
    )
  }
  return { ...emptyState(workspace), ...parsed } as WorkspaceState
}

/** Writes atomically (temp file + rename) so an interrupted run never leaves half a state file. */
export async function writeStateFile(file: string, state: WorkspaceState): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  await fs.writeFile(
    temporary,
    `${JSON.stringify({ ...state, savedAt: new Date().toISOString() }, null, 2)}\n`
  )
  await fs.rename(temporary, file)
}
