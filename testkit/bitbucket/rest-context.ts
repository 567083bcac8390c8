// What every metadata endpoint of the local Bitbucket is handed (the request, its spec operation's
// path parameters, the credential) and the checks they share: the workspace, the repository, the
// access token's reach, JSON in and out, and the objects other objects embed.
import type * as http from 'node:http'
import type { Identity } from './auth.js'
import { errorBody } from './faults.js'
import type { Account } from './metadata-state.js'
import type { RestOptions } from './rest.js'
import type { Reply } from './rest-repository.js'
import { findRepo, type Repo, type State } from './types.js'

export interface Ctx {
  state: State
  options: RestOptions
  method: string
  url: URL
  params: Record<string, string>
  body: Buffer
  headers: http.IncomingHttpHeaders
  /** undefined: the fixture admin (LocalBitbucket.adminRequest), who may do anything. */
  identity?: Identity
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>
/** Handlers keyed `method template`, as the spec spells them (`get /repositories/{workspace}`). */
export type Routes = Record<string, Handler>

export const json = (status: number, value: unknown, headers?: Record<string, string>): Reply => [
  status,
  JSON.stringify(value),
  headers
]
export const noContent = (): Reply => [204, '']
export const notFound = (message: string): Reply => [404, errorBody(message)]
export const badRequest = (message: string, detail?: unknown): Reply => [
  400,
  errorBody(message, detail)
]

export const isReply = (value: unknown): value is Reply =>
  Array.isArray(value) && typeof value[0] === 'number'

/** The workspace of the path, or the answer for one that is missing or out of the token's reach. */
export function workspaceOf(ctx: Ctx): string | Reply {
  const workspace = ctx.params.workspace
  if (!ctx.state.workspaces.has(workspace))
    return notFound(`No workspace with identifier '${workspace}'.`)
  if (ctx.identity?.kind === 'access-token' && ctx.identity.workspace !== workspace)
    return [403, errorBody('This access token does not have access to this workspace.')]
  return workspace
}

/** The repository of the path; one the credential cannot see is as missing as one that does not exist. */
export function repoOf(ctx: Ctx): Repo | Reply {
  const workspace = workspaceOf(ctx)
  if (isReply(workspace)) return workspace
  const repo = findRepo(ctx.state, workspace, ctx.params.repo_slug)
  return repo ?? notFound(`Repository ${workspace}/${ctx.params.repo_slug} not found`)
}

/** The request body as JSON, or the 400 Bitbucket answers for anything else. */
export function jsonBody(ctx: Ctx): Record<string, unknown> | Reply {
  const text = ctx.body.toString('utf8').trim()
  if (!text) return {}
  try {
    const value: unknown = JSON.parse(text)
    if (value && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>
  } catch {
    // answered below
  }
  return badRequest('Bad request', 'The request body is not a JSON object.')
}

export const link = (href: string) => ({ href })

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!
  )

/** Text as Bitbucket renders Markdown: any HTML in it escaped, never passed through. */
export const rendered = (raw: string) => ({
  raw,
  markup: 'markdown',
  html: raw === '' ? '' : `<p>${escapeHtml(raw).replace(/\n/g, '<br>')}</p>`
})

export function accountJson(state: State, account: Account) {
  const id = encodeURIComponent(account.uuid)
  return {
    type: 'user',
    uuid: account.uuid,
    display_name: account.displayName,
    nickname: account.nickname,
    account_id: account.accountId,
    links: {
      self: link(`${state.origin}/2.0/users/${id}`),
      html: link(`${state.origin}/${id}/`),
      avatar: link(`${state.origin}/account/${id}/avatar/`)
    }
  }
}

/** The short repository object other objects embed. */
export function repoSummary(state: State, repo: Repo) {
  return {
    type: 'repository',
    full_name: `${repo.workspace}/${repo.slug}`,
    name: repo.slug,
    uuid: repo.uuid,
    links: {
      self: link(`${state.origin}/2.0/repositories/${repo.workspace}/${repo.slug}`),
      html: link(`${state.origin}/${repo.workspace}/${repo.slug}`),
      avatar: link(`${state.origin}/${repo.workspace}/${repo.slug}/avatar/32/`)
    }
  }
}

/** The workspace as an account (`team`), as repositories and snippets name their owner. */
export function workspaceAccount(state: State, workspace: string) {
  return {
    type: 'team',
    username: workspace,
    display_name: workspace,
    uuid: state.workspaces.get(workspace)!.uuid,
    links: {
      self: link(`${state.origin}/2.0/workspaces/${workspace}`),
      html: link(`${state.origin}/${workspace}/`),
      avatar: link(`${state.origin}/workspaces/${workspace}/avatar/`)
    }
  }
}
