// The local Bitbucket's fixture API for what a repository holds beyond git (REFERENCE.md): people,
// pull requests and what happens to them, Downloads, snippets, and any settings through the same
// handlers the REST API uses. Users are named by nickname; times may be given (ISO 8601) for fixtures
// that need fixed dates, else they are now.

export interface AccountInfo {
  uuid: string
  nickname: string
  display_name: string
  account_id: string
}

export interface PullRequestInfo {
  id: number
  state: 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED'
  title: string
  source: { branch: string; commit: string }
  destination: { branch: string; commit: string }
  mergeCommit?: string
  createdOn: string
  updatedOn: string
  /** What `/diff` and `/patch` serve: kept from when the pull request was opened. */
  diff: string
  patch: string
}

export interface MetadataOptions {
  /** UNCONFIRMED on the real service: whether a new or deleted comment moves `updated_on` (default false). */
  commentsMovePullRequestUpdatedOn: boolean
  /** UNCONFIRMED likewise for approvals and requested changes (default false). */
  approvalsMovePullRequestUpdatedOn: boolean
}

export interface StorageRequest {
  /** The Downloads storage (S3-like) or the diff host. */
  host: 'downloads' | 'diff'
  method: string
  path: string
  status: number
  authorization: boolean
}

export interface MetadataAdmin {
  /** Where `/downloads/{name}` redirects to: it refuses any request carrying Authorization. */
  downloadsOrigin: string
  /** Where `/pullrequests/{id}/diff` and `/patch` redirect to. */
  diffOrigin: string
  /** Requests to the Downloads storage and the diff host, with whether they carried Authorization. */
  storageRequests: StorageRequest[]
  /** Switch the UNCONFIRMED behaviours at any time. */
  metadataOptions: MetadataOptions
  /** Requests per rolling hour and credential; undefined: counted, never refused (the default). */
  rateLimitPerHour: number | undefined
  /** A workspace member; its nickname is how the other fixture functions name it. */
  addUser(workspace: string, user: { nickname: string; displayName?: string }): AccountInfo
  /** A group of members (by nickname), for branch restrictions and group permissions. */
  addGroup(workspace: string, group: { slug: string; name?: string; members?: string[] }): void
  /** Opens a pull request from an existing branch; its diff and patch are computed by git now. */
  addPullRequest(
    workspace: string,
    slug: string,
    pr: {
      title: string
      source: string
      destination?: string
      description?: string
      author: string
      reviewers?: string[]
      closeSourceBranch?: boolean
      draft?: boolean
      at?: string
    }
  ): Promise<PullRequestInfo>
  /** Title and description changes, or SUPERSEDED; moves `updated_on` and adds an update entry. */
  updatePullRequest(
    workspace: string,
    slug: string,
    id: number,
    change: { title?: string; description?: string; state?: 'SUPERSEDED'; by?: string; at?: string }
  ): void
  /** A comment (inline with `inline`, a reply with `parent`); its id. */
  commentOnPullRequest(
    workspace: string,
    slug: string,
    id: number,
    comment: {
      raw: string
      author: string
      inline?: { path: string; from?: number; to?: number }
      parent?: number
      at?: string
    }
  ): number
  /** As Bitbucket shows a deleted comment: still listed, `deleted: true`, its text gone. */
  deletePullRequestComment(
    workspace: string,
    slug: string,
    id: number,
    commentId: number,
    at?: string
  ): void
  approve(workspace: string, slug: string, id: number, user: string, at?: string): void
  requestChanges(workspace: string, slug: string, id: number, user: string, at?: string): void
  addPullRequestTask(
    workspace: string,
    slug: string,
    id: number,
    task: { raw: string; creator: string; commentId?: number; resolved?: boolean; at?: string }
  ): number
  /** A build status on a commit (full id); a pull request shows those of its source commit. */
  addCommitStatus(
    workspace: string,
    slug: string,
    commit: string,
    status: {
      key: string
      state: 'SUCCESSFUL' | 'FAILED' | 'INPROGRESS' | 'STOPPED'
      name?: string
      url?: string
      description?: string
      refname?: string
      at?: string
    }
  ): void
  /** Declines; with close_source_branch the source branch is deleted. */
  declinePullRequest(
    workspace: string,
    slug: string,
    id: number,
    opts?: { by?: string; reason?: string; at?: string }
  ): Promise<void>
  /** A real merge commit on the destination branch; its full id. */
  mergePullRequest(
    workspace: string,
    slug: string,
    id: number,
    opts?: { by?: string; message?: string; at?: string }
  ): Promise<string>
  /** Deletes a branch upstream: commits no other ref reaches are then unreachable, as on Bitbucket. */
  deleteBranch(workspace: string, slug: string, branch: string): Promise<void>
  pullRequest(workspace: string, slug: string, id: number): PullRequestInfo | undefined
  addDownload(
    workspace: string,
    slug: string,
    name: string,
    bytes: Buffer,
    opts?: { uploader?: string; at?: string }
  ): void
  /** A Download's bytes as stored, or undefined. */
  download(workspace: string, slug: string, name: string): Buffer | undefined
  /** A snippet as a new git repository holding `files`; its encoded id and bare repository. */
  addSnippet(
    workspace: string,
    snippet: {
      title: string
      files: Record<string, string | Buffer>
      isPrivate?: boolean
      creator: string
      at?: string
    }
  ): Promise<{ id: string; gitDir: string }>
  commentOnSnippet(
    workspace: string,
    id: string,
    comment: { raw: string; author: string; at?: string }
  ): number
  /**
   * Any metadata endpoint as the workspace admin (no scope check, not logged): `path` below `/2.0`,
   * e.g. `POST /repositories/acme/app/hooks`. Settings fixtures are made through it.
   */
  adminRequest(
    method: string,
    path: string,
    body?: unknown
  ): Promise<{ status: number; body: unknown }>
  /** POST to a collection path (hooks, variables...), PUT to anything else (a key, a singleton); throws unless 2xx. */
  setSetting(workspace: string, slug: string, path: string, body: unknown): Promise<unknown>
}
