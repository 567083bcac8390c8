// What happened to each repository: the facts the report reads and the state records.
import type { BitbucketRepository } from '../bitbucket/types.js'
import { codeOf, type Code } from '../shared/codes.js'

export type RepositoryStatus =
  | 'backed-up'
  | 'incomplete'
  | 'unchanged'
  | 'empty'
  | 'failed'
  | 'deferred'
  | 'skipped'
  | 'no-longer-listed'
  | 'listed'

export interface RepositoryResult {
  workspace: string
  slug: string
  uuid: string
  status: RepositoryStatus
  /** One line: what was done, or why it failed or was skipped. */
  detail: string
  /** The catalogue entry (docs/troubleshooting.md) of why it failed or is incomplete. */
  code?: Code
  isPrivate?: boolean
  refs?: number
  lfsObjects?: number
  /** Bytes of the mirror on disk (git objects and LFS objects). */
  bytes?: number
  /** Bytes received from Bitbucket in this run (packs and LFS objects). */
  bytesFetched?: number
  seconds?: number
  /** Where the backup lives, when a target wrote one (e.g. the mirror directory). */
  location?: string
  /** The workflow artifact uploaded for this repository in this run. */
  artifact?: string
  /** The GitHub mirror this repository is pushed to (github target). */
  github?: string
  /** LFS objects the history points to that Bitbucket does not have (status incomplete). */
  lfsMissing?: string[]
  /** What was kept beyond git in this run (metadata input). */
  metadata?: MetadataResult
}

export interface MetadataResult {
  /** Pull requests archived (fetched again) in this run. */
  pullRequests: number
  /** Downloads fetched in this run. */
  downloads: number
  /** A snippet's comments archived in this run (with its object). */
  snippetComments?: number
  /** REST requests its metadata spent. */
  requests: number
  /** Why the REST budget held it back for the next run, when it did. */
  deferred?: string
  problems?: string[]
}

/** Statuses that mean the repository is safely backed up as of this run. */
export const SUCCESS_STATUSES: ReadonlySet<RepositoryStatus> = new Set([
  'backed-up',
  'unchanged',
  'empty',
  'listed'
])

/** Statuses whose mirror the targets receive: complete, or all of it that exists upstream. */
export const PUBLISHED_STATUSES: ReadonlySet<RepositoryStatus> = new Set([
  ...SUCCESS_STATUSES,
  'incomplete'
])

/** The fields every result of a listed repository starts with. */
export function resultBase(repository: BitbucketRepository) {
  return {
    workspace: repository.workspace,
    slug: repository.slug,
    uuid: repository.uuid,
    isPrivate: repository.isPrivate
  }
}

/** The code of a failed or incomplete result: the one its line names, else the generic one. */
export function resultCode(result: RepositoryResult): Code | undefined {
  if (result.status === 'failed') return result.code ?? codeOf(result.detail) ?? 'RUN001'
  if (result.status === 'incomplete') return result.code ?? 'LFS002'
  return undefined
}
