// Who may do what, over REST (swagger.v3.json): default reviewers of a repository and of a project and
// the effective ones a repository inherits, and explicit user and group permissions of a repository
// and of a project. Users must be workspace members and groups must exist, as on Bitbucket.
import type { Account, Group, SettingItem } from './metadata-state.js'
import { settingsOf } from './metadata-state.js'
import { paginate } from './paging.js'
import {
  accountJson,
  badRequest,
  isReply,
  link,
  notFound,
  repoOf,
  repoSummary,
  type Ctx,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import { collectionRoutes } from './settings-collection.js'
import { findGroup, groupJson, resolveMember } from './settings-people.js'
import { repoScope } from './settings-repository.js'
import { projectJson, projectOf } from './settings-workspace.js'

const R = '/repositories/{workspace}/{repo_slug}'
const P = '/workspaces/{workspace}/projects/{project_key}'

const projectScope = (ctx: Ctx): string | Reply => {
  const found = projectOf(ctx)
  return isReply(found) ? found : `project:${found.workspace}/${found.project.key}`
}

const userOf = (item: SettingItem) => item.user as Account
const isUser = (item: SettingItem, key: string) =>
  [userOf(item).uuid, userOf(item).nickname, userOf(item).accountId].includes(key)

/** A member named by the path, kept as `{ user }` (with what the body adds), or the 404. */
function memberItem(ctx: Ctx, key: string, extra: SettingItem = {}): SettingItem | Reply {
  const user = resolveMember(ctx, ctx.params.workspace, key)
  return user ? { user, ...extra } : notFound(`${key} is not a member of ${ctx.params.workspace}`)
}

const defaultReviewers = collectionRoutes({
  list: `${R}/default-reviewers`,
  item: `${R}/default-reviewers/{target_username}`,
  param: 'target_username',
  scope: repoScope,
  matches: isUser,
  upsert: (ctx, key) => memberItem(ctx, key),
  present: (ctx, item) => accountJson(ctx.state, userOf(item))
})

const reviewerAndType = (ctx: Ctx, item: SettingItem, type: 'repository' | 'project') => ({
  type: 'default_reviewer_and_type',
  reviewer_type: type,
  user: accountJson(ctx.state, userOf(item))
})

const projectDefaultReviewers = collectionRoutes({
  list: `${P}/default-reviewers`,
  item: `${P}/default-reviewers/{selected_user}`,
  param: 'selected_user',
  scope: projectScope,
  matches: isUser,
  upsert: (ctx, key) => memberItem(ctx, key),
  present: (ctx, item) => reviewerAndType(ctx, item, 'project'),
  putAnswer: (ctx, item) => accountJson(ctx.state, userOf(item))
})

/** The repository's default reviewers, then those of its project it does not name itself. */
function effectiveDefaultReviewers(ctx: Ctx): Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const meta = ctx.state.metadata
  const own = settingsOf(meta, `repo:${repo.uuid}`, `${R}/default-reviewers`)
  const inherited = settingsOf(
    meta,
    `project:${repo.workspace}/${repo.projectKey}`,
    `${P}/default-reviewers`
  )
  const values = [
    ...own.map(item => reviewerAndType(ctx, item, 'repository')),
    ...inherited
      .filter(item => !own.some(mine => userOf(mine).uuid === userOf(item).uuid))
      .map(item => reviewerAndType(ctx, item, 'project'))
  ]
  return paginate(ctx, values)
}

const PERMISSIONS = {
  repository: ['read', 'write', 'admin'],
  project: ['read', 'write', 'create-repo', 'admin']
}

function permission(kind: keyof typeof PERMISSIONS, body: Record<string, unknown>): string | Reply {
  const given = body.permission
  if (typeof given !== 'string' || !PERMISSIONS[kind].includes(given))
    return badRequest(`permission must be one of ${PERMISSIONS[kind].join(', ')}`)
  return given
}

function explicitPermissions(kind: 'repository' | 'project', who: 'users' | 'groups'): Routes {
  const base = kind === 'repository' ? R : P
  const param = who === 'users' ? 'selected_user_id' : 'group_slug'
  const subject = (ctx: Ctx) => {
    if (kind === 'project') {
      const found = projectOf(ctx)
      return {
        project: isReply(found) ? undefined : projectJson(ctx.state, found.workspace, found.project)
      }
    }
    const repo = repoOf(ctx)
    return { repository: isReply(repo) ? undefined : repoSummary(ctx.state, repo) }
  }
  const self = (ctx: Ctx, item: SettingItem) => {
    const path = ctx.url.pathname
      .replace(/\/$/, '')
      .replace(/\/(users|groups)(\/[^/]+)?$/, `/${who}`)
    const id = who === 'users' ? userOf(item).uuid : (item.group as Group).slug
    return link(`${ctx.state.origin}${path}/${encodeURIComponent(id)}`)
  }
  return collectionRoutes({
    list: `${base}/permissions-config/${who}`,
    item: `${base}/permissions-config/${who}/{${param}}`,
    param,
    scope: kind === 'repository' ? repoScope : projectScope,
    matches: who === 'users' ? isUser : (item, key) => (item.group as Group).slug === key,
    upsert(ctx, key, body) {
      const granted = permission(kind, body)
      if (isReply(granted)) return granted
      if (who === 'users') return memberItem(ctx, key, { permission: granted })
      const group = findGroup(ctx.state, ctx.params.workspace, key)
      return group
        ? { group, permission: granted }
        : notFound(`No group ${key} in ${ctx.params.workspace}`)
    },
    present: (ctx, item) => ({
      type: `${kind}_${who === 'users' ? 'user' : 'group'}_permission`,
      permission: item.permission,
      ...(who === 'users'
        ? { user: accountJson(ctx.state, userOf(item)) }
        : { group: groupJson(ctx.state, ctx.params.workspace, item.group as Group) }),
      ...subject(ctx),
      links: { self: self(ctx, item) }
    })
  })
}

export const permissionRoutes: Routes = {
  ...defaultReviewers,
  ...projectDefaultReviewers,
  [`get ${R}/effective-default-reviewers`]: effectiveDefaultReviewers,
  ...explicitPermissions('repository', 'users'),
  ...explicitPermissions('repository', 'groups'),
  ...explicitPermissions('project', 'users'),
  ...explicitPermissions('project', 'groups')
}
