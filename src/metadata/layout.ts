// What a repository's metadata archive holds: a tree committed to METADATA_REF in its mirror, plain
// JSON as Bitbucket's REST API 2.0 returned it, so it is readable without this action.

/** Inside the backup's own namespace, which fetches never overwrite and fingerprints leave out. */
export const METADATA_REF = 'refs/backup/metadata'

import type { MetadataKind } from '../settings/types.js'

// The kinds are the `metadata` input's words: settings owns them, the archive names them.
export { METADATA_KINDS, type MetadataKind } from '../settings/types.js'

/** Paths inside the archive's tree. */
export const ArchivePaths = {
  /** ArchiveManifest. */
  manifest: 'metadata.json',
  /** One self-contained, offline page listing the pull requests and their conversations. */
  page: 'index.html',
  /** ArchivedPullRequest, one file per pull request. */
  pullRequest: (id: number) => `pull-requests/${id}.json`,
  /** The pull request's diff, kept when its source commit is reachable from no ref of the mirror. */
  pullRequestDiff: (id: number) => `pull-requests/${id}.diff`,
  pullRequestsDir: 'pull-requests',
  /** ArchivedDownload[]. */
  downloadsIndex: 'downloads/index.json',
  /** The Download's bytes, as Bitbucket served them. */
  downloadFile: (name: string) => `downloads/files/${name}`,
  /** A snippet's REST object as the listing returned it (title, visibility, owner, files). */
  snippet: 'snippet.json',
  /** ApiComment[]: every comment on the snippet, as /snippets/{ws}/{id}/comments lists them. */
  snippetComments: 'snippet-comments.json',
  /** SettingsIndex: every settings endpoint asked, how it answered, and the secrets to re-enter. */
  settingsIndex: 'settings/index.json',
  settingsDir: 'settings/',
  /** The answer of one settings endpoint, as Bitbucket returned it (a paged list as `{values}`). */
  setting: (scope: 'repository' | 'project' | 'workspace', name: string) =>
    `settings/${scope}/${name}.json`,
  /** A deployment environment's variables, by its uuid without braces. */
  environmentVariables: (uuid: string) =>
    `settings/repository/environment-variables/${uuid.replace(/[{}]/g, '')}.json`
} as const

export interface ArchiveManifest {
  version: 1
  repository: { workspace: string; slug: string; uuid: string }
  /** When each kind was last collected completely (ISO time); absent when never. */
  collectedAt: Partial<Record<MetadataKind, string>>
}

/** A Bitbucket account as the API returns it (the fields the page shows). */
export interface ApiAccount {
  display_name?: string
  nickname?: string
  uuid?: string
  account_id?: string
}

export interface ApiRendered {
  raw?: string
  markup?: string
  /** Written by anyone with access: shown as text, never interpreted. */
  html?: string
}

export interface ApiComment {
  id: number
  content?: ApiRendered
  user?: ApiAccount
  created_on?: string
  updated_on?: string
  deleted?: boolean
  parent?: { id: number }
  /** An inline comment's file and line (`to` on the new side, `from` on the old). */
  inline?: { path: string; from?: number | null; to?: number | null }
}

export interface ApiPullRequest {
  id: number
  title?: string
  description?: string
  state?: 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED'
  author?: ApiAccount
  source?: { branch?: { name?: string }; commit?: { hash?: string } }
  destination?: { branch?: { name?: string }; commit?: { hash?: string } }
  merge_commit?: { hash?: string } | null
  created_on?: string
  updated_on?: string
  comment_count?: number
  task_count?: number
  reason?: string
  closed_by?: ApiAccount | null
  participants?: { user?: ApiAccount; role?: string; approved?: boolean; state?: string | null }[]
  reviewers?: ApiAccount[]
  [field: string]: unknown
}

/** One pull request with everything Bitbucket keeps of its review; the entries are the API's own. */
export interface ArchivedPullRequest {
  pullRequest: ApiPullRequest
  comments: ApiComment[]
  /** Approvals, changes requested, updates, comments, as /activity lists them. */
  activity: Record<string, unknown>[]
  tasks: Record<string, unknown>[]
  statuses: Record<string, unknown>[]
  /** True when `pull-requests/<id>.diff` holds the change because no ref reaches its source. */
  diffKept: boolean
}

export interface ArchivedDownload {
  name: string
  size: number
  sha256: string
  createdOn?: string
}

/** One settings endpoint as it answered: a file when 200, only this entry when 403 or 404. */
export interface SettingsEndpointEntry {
  /** The archive file, e.g. `settings/repository/hooks.json` (written only when status is 200). */
  file: string
  /** The API path below the 2.0 base, e.g. `/repositories/acme/meta/hooks`. */
  path: string
  status: 200 | 403 | 404
  /** Why there is no file: the scope a 403 names, what a 404 means. */
  note?: string
}

/** What Bitbucket never returns, listed so that a restore can ask for it again. */
export interface SettingsSecrets {
  /** Webhooks whose secret is set (`secret_set: true`). */
  webhooks: { uuid: string; url: string; description: string }[]
  /** Secured pipeline variables: `repository`, or `environment <name>` for a deployment's. */
  securedVariables: { key: string; where: string }[]
  /** A pipelines SSH key pair exists: its private key is not returned. */
  pipelinesKeyPair: boolean
}

/** settings/index.json. */
export interface SettingsIndex {
  collectedAt: string
  endpoints: SettingsEndpointEntry[]
  secrets: SettingsSecrets
}
