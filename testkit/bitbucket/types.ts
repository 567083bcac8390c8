// The local Bitbucket's public interface and the state its REST, git, LFS and storage modules share.
import type { ChildProcess } from 'node:child_process'
import * as path from 'node:path'
import type { Registry } from './auth.js'
import type { MetadataState } from './metadata-state.js'
import type { MetadataAdmin, StorageRequest } from './metadata-types.js'
import type { RefAdvertisementCache } from './ref-cache.js'
import type { RepositorySizes } from './repository-size.js'

export type FaultKind = '429' | '429-retry-after' | '500' | '502-html' | 'reset'
/** 413: a push body over the server's limit, as a proxy in front of any git server may answer. */
export type GitFaultKind = '500' | '429' | 'reset' | '502-html' | '413'
export type GitService =
  | 'info-refs'
  | 'upload-pack'
  | 'receive-pack'
  | 'lfs-batch'
  | 'lfs-download'
  | 'lfs-upload'
  | 'lfs-locks'

export interface GitRequest {
  method: string
  path: string
  /** 0 when the connection was reset. */
  status: number
  service: GitService
  /** `workspace/slug`, or '' when a storage request names no known repository. */
  repository: string
  /** The object ids an LFS batch request named, in its order. */
  oids?: string[]
  /** The upload-pack command of a POST: protocol v2 `command=`, or `fetch` for a v0 request with wants. */
  command?: 'ls-refs' | 'fetch'
  /** Body bytes sent back (headers excluded). */
  responseBytes: number
  authorization: boolean
  /** A ref advertisement answered from the cache (the refs unchanged since git last answered). */
  cached?: boolean
}

export interface RepositoryOptions {
  projectKey?: string
  isPrivate?: boolean
  /** Defaults to `The <slug> repository`. */
  description?: string
  scm?: 'git' | 'hg'
  empty?: boolean
  /** Git and LFS answer 403 to everyone but the fixture admin: a repository the credential cannot read. */
  denyGit?: boolean
}

export interface RepositoryInfo {
  uuid: string
  gitDir: string
  lfsDir: string
  isPrivate: boolean
  description: string
  projectKey: string
  /** The bare repository's HEAD branch as the REST API reports it: null without commits. */
  mainBranch: string | null
}

export type { StorageRequest }

export interface LocalBitbucket extends MetadataAdmin {
  apiUrl: string
  origin: string
  /** The object storage LFS downloads and uploads go to: another origin, as Atlassian media storage. */
  storageOrigin: string
  oauthTokenUrl: string
  /** Temporary directory holding `<workspace>/<slug>.git` bare repositories; removed by close(). */
  root: string
  /** `Basic ...` for user `fixture-admin`, who may read and push everything: for fixtures only. */
  adminAuthorization: string
  /**
   * Scopes default to read-only (`read:repository:bitbucket`, `read:workspace:bitbucket`); pushing
   * needs `write:repository:bitbucket`, creating and updating repositories `admin:repository:bitbucket`.
   */
  addApiToken(t: { email: string; username: string; token: string; scopes?: string[] }): void
  /**
   * A workspace access token; scopes default to `repository` (read); `repository:write` pushes (and
   * reads), `repository:admin` creates and updates repositories (and does not read).
   */
  addAccessToken(t: { token: string; workspace: string; scopes?: string[] }): void
  /** Its client-credentials tokens carry `scopes` (default `repository`), as an access token's do. */
  addOAuthConsumer(c: {
    clientId: string
    clientSecret: string
    tokenLifetimeSeconds?: number
    scopes?: string[]
  }): void
  addAppPassword(p: { username: string; password: string }): void
  /** Creates the workspace; an existing one is kept with its repositories. */
  createWorkspace(slug: string): void
  addRepository(
    workspace: string,
    slug: string,
    opts?: RepositoryOptions
  ): { uuid: string; gitDir: string }
  /** Keeps the uuid and LFS objects, moves the bare repository; the old slug answers 404. */
  renameRepository(workspace: string, oldSlug: string, newSlug: string): void
  /** Drops the repository from listings and deletes its git data and LFS objects. */
  removeRepository(workspace: string, slug: string): void
  /** Where a repository's data lives and its settings, or undefined when there is no such repository. */
  repository(workspace: string, slug: string): RepositoryInfo | undefined
  /**
   * Deletes one LFS object from the storage, as an object whose pointer was pushed but which was never
   * uploaded: the batch API answers it with a 404 error of its own, the other objects as before.
   */
  removeLfsObject(workspace: string, slug: string, oid: string): void
  /** Stores an LFS object again (its content must hash to `oid`), as a late upload would. */
  restoreLfsObject(workspace: string, slug: string, oid: string, content: Buffer): void
  /**
   * The `size` REST answers claim for the repository, e.g. more than a runner's disk, without that much
   * data; undefined returns to the measured size (the bytes of its git objects).
   */
  setReportedSize(workspace: string, slug: string, bytes: number | undefined): void
  injectFaults(f: { kind: FaultKind; count: number; retryAfterSeconds?: number }): void
  /** Faults for git, LFS API and storage requests (the REST API is not affected). */
  injectGitFaults(f: { kind: GitFaultKind; count: number; path?: RegExp }): void
  requests: { method: string; path: string; status: number; authorization: boolean }[]
  clearRequests(): void
  gitRequests: GitRequest[]
  clearGitRequests(): void
  /** Whether ref advertisements are answered from the cache (on unless started without it). */
  refAdvertisementCache: boolean
  close(): Promise<void>
}

export interface Repo {
  workspace: string
  slug: string
  uuid: string
  projectKey: string
  isPrivate: boolean
  description: string
  scm: string
  /** Without commits until a push: the main branch is null while HEAD's branch does not exist. */
  empty: boolean
  denyGit: boolean
  /** The `size` to answer instead of the measured one (setReportedSize). */
  reportedSize?: number
}

export interface State {
  root: string
  /** An empty HOME for the git processes the server starts, so no user configuration applies. */
  home: string
  /** A `git init --bare` (HEAD at `main`, no hooks) copied for each new repository. */
  template: string
  registry: Registry
  workspaces: Map<string, { uuid: string; repos: Repo[] }>
  origin: string
  storageOrigin: string
  requests: LocalBitbucket['requests']
  gitRequests: GitRequest[]
  gitFaults: { kind: GitFaultKind; path?: RegExp }[]
  children: Set<ChildProcess>
  refCache: RefAdvertisementCache
  sizes: RepositorySizes
  /** Key for the storage origin's signed URLs. */
  signingKey: Buffer
  /** Pull requests, Downloads, snippets, settings: what a repository holds beyond git. */
  metadata: MetadataState
  diffOrigin: string
  downloadsOrigin: string
  storageRequests: StorageRequest[]
}

export function findRepo(state: State, workspace: string, slug: string): Repo | undefined {
  return state.workspaces.get(workspace)?.repos.find(repo => repo.slug === slug)
}

export const gitDirOf = (state: State, repo: { workspace: string; slug: string }) =>
  path.join(state.root, repo.workspace, `${repo.slug}.git`)

/** LFS objects are kept by repository uuid, so a rename keeps them and another repository never sees them. */
export const lfsDirOf = (state: State, repo: { uuid: string }) =>
  path.join(state.root, '.lfs', repo.uuid.replace(/[{}]/g, ''))
