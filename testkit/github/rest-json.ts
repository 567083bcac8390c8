// GitHub's JSON shapes for the local GitHub's REST answers: accounts, repositories with the
// caller's permissions, and error bodies with a status.
import type { Permissions } from './auth.js'
import { defaultBranchOf, isEmpty, sizeInKb } from './repository.js'
import { errorBody, findAccount, fullName, type Account, type Repo, type State } from './types.js'

export const NOT_ACCESSIBLE = 'Resource not accessible by integration'

export interface Answer {
  status: number
  /** undefined: no body (a redirect). */
  body: unknown
  headers?: Record<string, string>
}

export const answer = (status: number, message: string, extra: object = {}): Answer => ({
  status,
  body: errorBody(status, message, extra)
})

export const notFound = (): Answer => answer(404, 'Not Found')

const nodeId = (type: string, id: number) => Buffer.from(`04:${type}${id}`).toString('base64')

export function accountJson(state: State, account: Account): object {
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId(account.type, account.id),
    type: account.type,
    site_admin: false,
    url: `${state.apiUrl}/${account.type === 'User' ? 'users' : 'orgs'}/${account.login}`,
    html_url: `${state.origin}/${account.login}`,
    repos_url: `${state.apiUrl}/${account.type === 'User' ? 'users' : 'orgs'}/${account.login}/repos`
  }
}

export function repoJson(state: State, repo: Repo, permissions?: Permissions): object {
  const owner = findAccount(state, repo.owner)!
  const empty = isEmpty(state, repo)
  return {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: fullName(repo),
    owner: accountJson(state, owner),
    private: repo.visibility !== 'public',
    visibility: repo.visibility,
    html_url: `${state.origin}/${fullName(repo)}`,
    description: repo.description,
    fork: false,
    url: `${state.apiUrl}/repos/${fullName(repo)}`,
    clone_url: `${state.origin}/${fullName(repo)}.git`,
    homepage: repo.homepage,
    size: empty ? 0 : sizeInKb(state, repo),
    default_branch: defaultBranchOf(state, repo),
    has_issues: repo.hasIssues,
    has_wiki: repo.hasWiki,
    has_projects: repo.hasProjects,
    has_downloads: true,
    archived: false,
    disabled: false,
    mirror_url: null,
    created_at: repo.createdAt,
    updated_at: repo.pushedAt ?? repo.createdAt,
    pushed_at: repo.pushedAt,
    ...(permissions
      ? {
          permissions: {
            admin: permissions.admin,
            maintain: permissions.admin,
            push: permissions.push,
            triage: permissions.push,
            pull: permissions.pull
          }
        }
      : {})
  }
}
