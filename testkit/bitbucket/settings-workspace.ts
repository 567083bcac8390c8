// A workspace over REST (swagger.v3.json, /workspaces/{workspace}...): the workspace itself, its
// members, every member's explicit repository permission, and its projects, created and updated for
// a restore. A project a repository names exists, as it does on Bitbucket.
import { stamp, uuidFor, type ProjectRecord } from './metadata-state.js'
import { paginate, queried } from './paging.js'
import {
  accountJson,
  badRequest,
  isReply,
  json,
  jsonBody,
  link,
  notFound,
  repoSummary,
  workspaceAccount,
  workspaceOf,
  type Ctx,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import { requestBodyProblem } from './spec-operations.js'
import type { State } from './types.js'
import type { Account } from './metadata-state.js'

const W = '/workspaces/{workspace}'
const CREATED = '2026-01-05T09:00:00.000000+00:00'
/** Where settings-permissions.ts keeps a repository's user permissions (its list path). */
const USER_PERMISSIONS = '/repositories/{workspace}/{repo_slug}/permissions-config/users'

/** The workspace's projects: those created here and, once listed, those only its repositories name. */
export function projectsOf(state: State, workspace: string): ProjectRecord[] {
  let list = state.metadata.projects.get(workspace)
  if (!list) state.metadata.projects.set(workspace, (list = []))
  for (const repo of state.workspaces.get(workspace)?.repos ?? [])
    if (!list.some(project => project.key === repo.projectKey))
      list.push({
        key: repo.projectKey,
        uuid: uuidFor(`project:${workspace}/${repo.projectKey}`),
        name: repo.projectKey,
        description: '',
        isPrivate: true,
        createdOn: CREATED,
        updatedOn: CREATED
      })
  return list
}

export function projectJson(state: State, workspace: string, project: ProjectRecord) {
  return {
    type: 'project',
    uuid: project.uuid,
    key: project.key,
    name: project.name,
    description: project.description,
    is_private: project.isPrivate,
    created_on: project.createdOn,
    updated_on: project.updatedOn,
    has_publicly_visible_repos: (state.workspaces.get(workspace)?.repos ?? []).some(
      repo => repo.projectKey === project.key && !repo.isPrivate
    ),
    owner: workspaceAccount(state, workspace),
    links: {
      html: link(`${state.origin}/${workspace}/workspace/projects/${project.key}`),
      avatar: link(`${state.origin}/${workspace}/workspace/projects/${project.key}/avatar/32`)
    }
  }
}

/** The project of the path, or its 404. */
export function projectOf(ctx: Ctx): { workspace: string; project: ProjectRecord } | Reply {
  const workspace = workspaceOf(ctx)
  if (isReply(workspace)) return workspace
  const project = projectsOf(ctx.state, workspace).find(p => p.key === ctx.params.project_key)
  return project ? { workspace, project } : notFound(`Project ${ctx.params.project_key} not found`)
}

export function workspaceJson(state: State, workspace: string) {
  const api = `${state.origin}/2.0/workspaces/${workspace}`
  return {
    type: 'workspace',
    uuid: state.workspaces.get(workspace)!.uuid,
    name: workspace,
    slug: workspace,
    is_private: true,
    is_privacy_enforced: false,
    forking_mode: 'allow_forks',
    created_on: CREATED,
    updated_on: CREATED,
    links: {
      avatar: link(`${state.origin}/workspaces/${workspace}/avatar/`),
      html: link(`${state.origin}/${workspace}/`),
      members: link(`${api}/members`),
      owners: link(`${api}/members?q=permission%3D%22owner%22`),
      projects: link(`${api}/projects`),
      repositories: link(`${state.origin}/2.0/repositories/${workspace}`),
      snippets: link(`${state.origin}/2.0/snippets/${workspace}`),
      self: link(api)
    }
  }
}

function workspace(ctx: Ctx): Reply {
  const slug = workspaceOf(ctx)
  return isReply(slug) ? slug : json(200, workspaceJson(ctx.state, slug))
}

function members(ctx: Ctx): Reply {
  const slug = workspaceOf(ctx)
  if (isReply(slug)) return slug
  const { uuid } = ctx.state.workspaces.get(slug)!
  const values = (ctx.state.metadata.users.get(slug) ?? []).map(user => ({
    type: 'workspace_membership',
    user: accountJson(ctx.state, user),
    workspace: { type: 'workspace', uuid, slug, name: slug },
    links: {
      self: link(
        `${ctx.state.origin}/2.0/workspaces/${slug}/members/${encodeURIComponent(user.uuid)}`
      )
    }
  }))
  return paginate(ctx, values)
}

/**
 * Each explicit user permission of each repository (permissions-config/users) in the workspace, or
 * of the one the path names (the spec answers 200 or 403 only: a slug it lacks lists nothing).
 */
function repositoryPermissions(ctx: Ctx): Reply {
  const slug = workspaceOf(ctx)
  if (isReply(slug)) return slug
  const named = ctx.params.repo_slug
  const repos = ctx.state.workspaces
    .get(slug)!
    .repos.filter(repo => named === undefined || repo.slug === named)
  const values = repos.flatMap(repo =>
    (ctx.state.metadata.settings.get(`repo:${repo.uuid}`)?.get(USER_PERMISSIONS) ?? []).map(
      item => ({
        type: 'repository_permission',
        permission: item.permission,
        user: accountJson(ctx.state, item.user as Account),
        repository: repoSummary(ctx.state, repo)
      })
    )
  )
  const kept = queried(ctx, values)
  return isReply(kept) ? kept : paginate(ctx, kept)
}

function listProjects(ctx: Ctx): Reply {
  const slug = workspaceOf(ctx)
  if (isReply(slug)) return slug
  const values = projectsOf(ctx.state, slug).map(project => projectJson(ctx.state, slug, project))
  const kept = queried(ctx, values)
  return isReply(kept) ? kept : paginate(ctx, kept)
}

/** A project document's fields, checked against the spec's `project` schema. */
function projectBody(ctx: Ctx, template: string): Record<string, unknown> | Reply {
  const body = jsonBody(ctx)
  if (isReply(body)) return body
  const problem = requestBodyProblem(ctx.method, template, body)
  if (problem) return badRequest('Bad request', problem)
  if (
    body.key !== undefined &&
    (typeof body.key !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(body.key))
  )
    return badRequest('Project keys start with a letter and hold letters, digits and underscores.')
  return body
}

function saveProject(
  ctx: Ctx,
  slug: string,
  body: Record<string, unknown>,
  existing?: ProjectRecord,
  key?: string
) {
  const date = stamp(ctx.state.metadata)
  const project: ProjectRecord = existing ?? {
    key: (body.key as string | undefined) ?? key!,
    uuid: uuidFor(`project:${slug}/${(body.key as string | undefined) ?? key}:${date}`),
    name: '',
    description: '',
    isPrivate: true,
    createdOn: date,
    updatedOn: date
  }
  if (typeof body.name === 'string') project.name = body.name
  if (typeof body.description === 'string') project.description = body.description
  if (typeof body.is_private === 'boolean') project.isPrivate = body.is_private
  if (existing && typeof body.key === 'string') project.key = body.key
  project.updatedOn = date
  if (!existing) projectsOf(ctx.state, slug).push(project)
  return project
}

function createProject(ctx: Ctx): Reply {
  const slug = workspaceOf(ctx)
  if (isReply(slug)) return slug
  const body = projectBody(ctx, `${W}/projects`)
  if (isReply(body)) return body
  if (typeof body.key !== 'string' || typeof body.name !== 'string')
    return badRequest('A project needs a key and a name.')
  if (projectsOf(ctx.state, slug).some(project => project.key === body.key))
    return badRequest(`Project with this key already exists: ${body.key}`)
  const project = saveProject(ctx, slug, body)
  return json(201, projectJson(ctx.state, slug, project), {
    Location: `${ctx.state.origin}/2.0/workspaces/${slug}/projects/${project.key}`
  })
}

function project(ctx: Ctx): Reply {
  const found = projectOf(ctx)
  return isReply(found) ? found : json(200, projectJson(ctx.state, found.workspace, found.project))
}

/** PUT updates the project, or creates it (201) when the key is new. */
function putProject(ctx: Ctx): Reply {
  const slug = workspaceOf(ctx)
  if (isReply(slug)) return slug
  const body = projectBody(ctx, `${W}/projects/{project_key}`)
  if (isReply(body)) return body
  const existing = projectsOf(ctx.state, slug).find(p => p.key === ctx.params.project_key)
  if (!existing && typeof body.name !== 'string') return badRequest('A new project needs a name.')
  const saved = saveProject(ctx, slug, body, existing, ctx.params.project_key)
  return json(existing ? 200 : 201, projectJson(ctx.state, slug, saved))
}

export const workspaceRoutes: Routes = {
  [`get ${W}`]: workspace,
  [`get ${W}/members`]: members,
  [`get ${W}/permissions/repositories`]: repositoryPermissions,
  [`get ${W}/permissions/repositories/{repo_slug}`]: repositoryPermissions,
  [`get ${W}/projects`]: listProjects,
  [`post ${W}/projects`]: createProject,
  [`get ${W}/projects/{project_key}`]: project,
  [`put ${W}/projects/{project_key}`]: putProject
}
