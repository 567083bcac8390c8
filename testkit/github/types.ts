// The local GitHub's public contract (what tests and the action's GitHub target see) and the state
// its modules share.
import type { ChildProcess } from 'node:child_process'
import * as path from 'node:path'

export interface LocalGitHubOptions {
  latencyMs?: number
  limits?: {
    /** receive.maxInputSize: a larger push pack fails with git's "pack exceeds maximum allowed size". */
    maxPushBytes?: number
    /** pre-receive hook: a pushed blob larger than this is refused with GitHub's GH001 text. */
    maxFileBytes?: number
    /** pre-receive hook: more ref updates in one push are refused with GitHub's GH013 text. */
    maxRefUpdatesPerPush?: number
  }
  /**
   * pre-receive hook, on unless false: a push whose new blobs include LFS pointers to objects not
   * uploaded to this repository is refused with GitHub's GH008 text, as GitHub does since 2018.
   */
  requireLfsObjects?: boolean
  /**
   * What the Actions artifacts REST API lists: the artifacts runs uploaded to the results-service
   * stand-in (pass it; it fits this interface). Without it every repository has no artifacts.
   */
  artifacts?: ArtifactStore
}

/** One finalized artifact as the results service keeps it (its `ArtifactRecord` fits). */
export interface StoredArtifact {
  id: number
  runId: string
  name: string
  size: number
  digest?: string
  createdAt: Date
  expiresAt: Date
  finalizedAt?: Date
}

/** The results service seen from GitHub's REST API: its artifacts, their runs' repositories, blobs. */
export interface ArtifactStore {
  /** Finalized artifacts, oldest first, expired ones included. */
  readonly artifacts: readonly StoredArtifact[]
  /** owner/name of the repository a run belongs to; undefined for a run it never saw. */
  repositoryOf(runId: string): string | undefined
  /** A read-only signed blob URL for the artifact's zip, good for `ttlMs`. */
  downloadUrl(artifactId: number, ttlMs: number): string | undefined
  /** The clock artifacts expire by. */
  now(): Date
}

export type Visibility = 'public' | 'private' | 'internal'

export interface GitHubRepoView {
  owner: string
  name: string
  private: boolean
  visibility: Visibility
  description: string | null
  homepage: string | null
  defaultBranch: string
  hasIssues: boolean
  hasWiki: boolean
  hasProjects: boolean
  gitDir: string
  createdViaApi: boolean
}

export interface PushRecord {
  /** owner/name */
  repository: string
  status: 'accepted' | 'rejected'
  /** Size of the receive-pack POST body as it came over the wire. */
  requestBytes: number
  /** Commands in the push (one per ref created, updated or deleted). */
  refUpdates: number
  /** What the remote said when it refused: hook output, unpack errors, per-ref reasons. */
  message?: string
}

export type TokenKind = 'pat' | 'installation' | 'actions'

export interface TokenSpec {
  token: string
  login: string
  kind: TokenKind
  canCreateIn?: string[]
  canPushTo?: string[]
  /** owner/name of private repositories it may read (a workflow token with `actions: read`). */
  canReadFrom?: string[]
  /** owner/name of repositories outside its reach though it may create (a fine-grained token limited to selected repositories). */
  cannotSee?: string[]
}

export interface RestRequest {
  method: string
  path: string
  status: number
  authorization: boolean
}

export interface GitRequest {
  method: string
  path: string
  /** info-refs, upload-pack, receive-pack, lfs-batch, lfs-verify or lfs-locks */
  service: string
  repository: string
  status: number
  authorization: boolean
  requestBytes: number
}

export interface StorageRequest {
  method: string
  path: string
  authorization: boolean
  status: number
}

export interface LfsUpload {
  repository: string
  oid: string
  size: number
}

export interface LocalGitHub {
  /** Like GitHub Enterprise Server: `${origin}/api/v3`. */
  apiUrl: string
  /** Git lives at `${origin}/{owner}/{name}.git`. */
  origin: string
  /** LFS object storage: a separate origin that refuses any Authorization header. */
  storageOrigin: string
  addOrganization(login: string): void
  addUser(login: string): void
  /**
   * 'pat': a classic PAT, creates repositories in its own account and in `canCreateIn` orgs;
   * 'installation': a ghs_ app token, creates in `canCreateIn`; 'actions': a workflow GITHUB_TOKEN,
   * never creates and pushes only to `canPushTo` (owner/name).
   */
  addToken(t: TokenSpec): void
  /** A repository that exists before the action runs, optionally with the refs of a bare repository. */
  addRepository(
    owner: string,
    name: string,
    opts?: { fromGitDir?: string; description?: string; homepage?: string; private?: boolean }
  ): GitHubRepoView
  repository(owner: string, name: string): GitHubRepoView | undefined
  repositories(): GitHubRepoView[]
  /** Oids of the LFS objects stored for a repository. */
  lfsObjects(owner: string, name: string): string[]
  lfsObjectPath(owner: string, name: string, oid: string): string
  requests: RestRequest[]
  gitRequests: GitRequest[]
  pushes: PushRecord[]
  lfsUploads: LfsUpload[]
  storageRequests: StorageRequest[]
  /** A repository's releases, drafts included, with their assets and where each asset's bytes are. */
  releases(owner: string, name: string): ReleaseView[]
  /** Empties every log. */
  clear(): void
  close(): Promise<void>
}

export interface ReleaseView {
  id: number
  tagName: string
  name: string | null
  body: string | null
  draft: boolean
  assets: {
    id: number
    name: string
    label: string | null
    size: number
    state: string
    file: string
  }[]
}

export interface Account {
  id: number
  login: string
  type: 'User' | 'Organization'
}

export interface Token {
  token: string
  login: string
  kind: TokenKind
  canCreateIn: string[]
  canPushTo: string[]
  canReadFrom: string[]
  cannotSee: string[]
}

export interface Repo {
  id: number
  /** The owner's login as the account spells it. */
  owner: string
  name: string
  visibility: Visibility
  description: string | null
  homepage: string | null
  hasIssues: boolean
  hasWiki: boolean
  hasProjects: boolean
  createdViaApi: boolean
  createdAt: string
  pushedAt: string | null
}

/** A release as the local GitHub keeps it; a draft has no tag in git. */
export interface StoredRelease {
  id: number
  repoId: number
  tagName: string
  name: string | null
  body: string | null
  draft: boolean
  createdAt: string
  /** The tag's commit, for a published release. */
  targetCommit?: string
}

export interface StoredAsset {
  id: number
  releaseId: number
  /** As GitHub renamed it. */
  name: string
  label: string | null
  contentType: string
  size: number
  /** `starter` until every byte arrived. */
  state: 'starter' | 'uploaded'
  file: string
  createdAt: string
}

export interface State {
  root: string
  home: string
  /** GIT_PROJECT_ROOT: bare repositories at `<owner>/<name>.git` below it. */
  reposRoot: string
  lfsRoot: string
  /** A `git init --bare` copied for each new repository. */
  template: string
  origin: string
  apiUrl: string
  storageOrigin: string
  limits: NonNullable<LocalGitHubOptions['limits']>
  requireLfsObjects: boolean
  artifacts?: ArtifactStore
  /** Keyed by lower-case login: GitHub's names are case-insensitive. */
  accounts: Map<string, Account>
  tokens: Map<string, Token>
  /** Keyed by lower-case `owner/name`. */
  repos: Map<string, Repo>
  nextId: number
  signingKey: Buffer
  children: Set<ChildProcess>
  requests: RestRequest[]
  gitRequests: GitRequest[]
  pushes: PushRecord[]
  lfsUploads: LfsUpload[]
  storageRequests: StorageRequest[]
  releases: StoredRelease[]
  assets: StoredAsset[]
}

export const fullName = (repo: Repo): string => `${repo.owner}/${repo.name}`

export const repoKey = (owner: string, name: string): string => `${owner}/${name}`.toLowerCase()

export const findRepo = (state: State, owner: string, name: string): Repo | undefined =>
  state.repos.get(repoKey(owner, name))

export const findAccount = (state: State, login: string): Account | undefined =>
  state.accounts.get(login.toLowerCase())

export const gitDirOf = (state: State, repo: Repo): string =>
  path.join(state.reposRoot, repo.owner, `${repo.name}.git`)

export const lfsDirOf = (state: State, repo: Repo): string =>
  path.join(state.lfsRoot, repo.owner, repo.name)

/** GitHub's error body: a message, where to read about it, and the status as a string. */
export const errorBody = (status: number, message: string, extra: object = {}): object => ({
  message,
  ...extra,
  documentation_url: 'https://docs.github.com/rest',
  status: String(status)
})
