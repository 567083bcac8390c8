// What the local Bitbucket keeps beside git, in memory: accounts and groups of each workspace, and per
// repository its pull requests, Downloads, commit statuses and settings; projects and snippets per
// workspace. Also the clock every record's time comes from, in Bitbucket's format.
import { createHash } from 'node:crypto'
import type { Identity } from './auth.js'
import type { MetadataOptions } from './metadata-types.js'
import type { PullRequest } from './pull-request-model.js'
import type { Snippet } from './snippet-model.js'

export interface Account {
  uuid: string
  nickname: string
  displayName: string
  accountId: string
}

export interface Group {
  slug: string
  name: string
  members: Account[]
}

export interface CommitStatus {
  key: string
  state: 'SUCCESSFUL' | 'FAILED' | 'INPROGRESS' | 'STOPPED'
  name: string
  url: string
  description: string
  refname?: string
  createdOn: string
  updatedOn: string
}

export interface Download {
  name: string
  size: number
  /** Where its bytes are kept, below the server's root. */
  file: string
  user: Account
  createdOn: string
}

/** A settings item as the API answers it (before secrets are left out); the id is in `uuid` or `id`. */
export type SettingItem = Record<string, unknown>

export interface ProjectRecord {
  key: string
  uuid: string
  name: string
  description: string
  isPrivate: boolean
  createdOn: string
  updatedOn: string
}

export interface MetadataState {
  options: MetadataOptions
  /** The last time handed out (ms): times are unique and increasing, as the tests compare them. */
  lastTime: number
  users: Map<string, Account[]>
  groups: Map<string, Group[]>
  projects: Map<string, ProjectRecord[]>
  /** Settings of a repository (by uuid), project (`ws/KEY`) or environment, by collection name. */
  settings: Map<string, Map<string, SettingItem[]>>
  downloads: Map<string, Download[]>
  /** Commit statuses of a repository (by uuid), by full commit hash. */
  statuses: Map<string, Map<string, CommitStatus[]>>
  /** Pull requests of a repository, by its uuid (a rename keeps them). */
  pullRequests: Map<string, PullRequest[]>
  snippets: Map<string, Snippet[]>
  nextId: number
}

export function createMetadataState(options: Partial<MetadataOptions> = {}): MetadataState {
  return {
    options: {
      commentsMovePullRequestUpdatedOn: options.commentsMovePullRequestUpdatedOn ?? false,
      approvalsMovePullRequestUpdatedOn: options.approvalsMovePullRequestUpdatedOn ?? false
    },
    lastTime: 0,
    users: new Map(),
    groups: new Map(),
    projects: new Map(),
    settings: new Map(),
    downloads: new Map(),
    statuses: new Map(),
    pullRequests: new Map(),
    snippets: new Map(),
    nextId: 1
  }
}

/** Bitbucket's timestamps: microseconds and an explicit `+00:00` offset. */
export function bitbucketTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00')
}

/** Now (or `at`, for fixtures that need fixed dates), never equal to or before the last time handed out. */
export function stamp(meta: MetadataState, at?: string): string {
  if (at !== undefined) {
    const ms = Date.parse(at)
    if (Number.isNaN(ms)) throw new Error(`local Bitbucket: not a date: ${at}`)
    meta.lastTime = Math.max(meta.lastTime, ms)
    return bitbucketTime(ms)
  }
  meta.lastTime = Math.max(Date.now(), meta.lastTime + 1)
  return bitbucketTime(meta.lastTime)
}

/** A uuid derived from a name, in braces as Bitbucket writes them: the same account in every answer. */
export function uuidFor(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex')
  return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}}`
}

export function makeAccount(nickname: string, displayName?: string): Account {
  return {
    uuid: uuidFor(`account:${nickname}`),
    nickname,
    displayName: displayName ?? nickname,
    accountId: `557058:${createHash('sha256').update(nickname).digest('hex').slice(0, 24)}`
  }
}

/** A workspace member by nickname, uuid or Atlassian account id (the forms the API takes in paths). */
export function findUser(meta: MetadataState, workspace: string, id: string): Account | undefined {
  return meta.users
    .get(workspace)
    ?.find(user => user.nickname === id || user.uuid === id || user.accountId === id)
}

/** The account the API shows as the author of what a credential writes. */
export function accountOf(
  meta: MetadataState,
  workspace: string,
  identity: Identity | undefined
): Account {
  if (!identity) return makeAccount('fixture-admin', 'Fixture Admin')
  if (identity.kind === 'api-token')
    return findUser(meta, workspace, identity.username) ?? makeAccount(identity.username)
  // Access tokens act as a bot user of their own; OAuth consumers here have no user behind them.
  return identity.kind === 'access-token'
    ? makeAccount(`${identity.workspace}-access-token`, 'Access token')
    : makeAccount('oauth-consumer', 'OAuth consumer')
}

export function settingsOf(meta: MetadataState, scope: string, collection: string): SettingItem[] {
  let scoped = meta.settings.get(scope)
  if (!scoped) meta.settings.set(scope, (scoped = new Map()))
  let items = scoped.get(collection)
  if (!items) scoped.set(collection, (items = []))
  return items
}
