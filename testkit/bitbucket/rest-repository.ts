// One repository over REST (swagger.v3.json, /repositories/{workspace}/{repo_slug}): GET it, POST to
// create it, PUT to update it (or create it, 201). Request bodies are checked against the spec's
// `repository` schema, as a partial document: the spec's own example sends only `scm` and a project key.
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import type { Identity } from './auth.js'
import { errorBody } from './faults.js'
import { applyFields } from './fields.js'
import { branchExists, createRepo, mainBranchOf, pointHead } from './repository.js'
import { optional } from './spec-operations.js'
import { findRepo, gitDirOf, type Repo, type State } from './types.js'

export type Reply = [number, string, Record<string, string>?]

const time = '2026-11-01T10:00:00.123456+00:00'
/** Bitbucket's answer to a POST for a slug that is taken (as clients in the wild match on it). */
export const REPOSITORY_EXISTS = 'Repository with this Slug and Owner already exists.'
const SLUG = /^[a-z0-9._-]+$/

/** A project's uuid, the same in every answer (derived from workspace and key). */
function projectUuid(workspace: string, key: string): string {
  const hex = createHash('sha256').update(`${workspace}/${key}`).digest('hex')
  return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}}`
}

export function repositoryObject(state: State, repo: Repo, identity: Identity) {
  const user = identity.kind === 'api-token' ? `${identity.username}@` : ''
  const origin = state.origin
  const base = `${origin}/2.0/repositories/${repo.workspace}/${repo.slug}`
  const ws = state.workspaces.get(repo.workspace)!
  const mainBranch = mainBranchOf(state, repo)
  return {
    type: 'repository',
    uuid: repo.uuid,
    full_name: `${repo.workspace}/${repo.slug}`,
    slug: repo.slug,
    name: repo.slug,
    scm: repo.scm,
    website: '',
    is_private: repo.isPrivate,
    description: repo.description,
    fork_policy: 'no_public_forks',
    language: 'typescript',
    has_issues: false,
    has_wiki: false,
    size: repo.reportedSize ?? state.sizes.sizeOf(gitDirOf(state, repo)),
    created_on: time,
    updated_on: time,
    mainbranch: mainBranch === null ? null : { type: 'branch', name: mainBranch },
    project: {
      type: 'project',
      key: repo.projectKey,
      name: repo.projectKey,
      uuid: projectUuid(repo.workspace, repo.projectKey)
    },
    workspace: { type: 'workspace', slug: repo.workspace, name: repo.workspace, uuid: ws.uuid },
    owner: {
      type: 'team',
      username: repo.workspace,
      display_name: repo.workspace,
      uuid: ws.uuid
    },
    links: {
      self: { href: base },
      html: { href: `${origin}/${repo.workspace}/${repo.slug}` },
      clone: [
        {
          name: 'https',
          href: `${origin.replace('://', `://${user}`)}/${repo.workspace}/${repo.slug}.git`
        },
        { name: 'ssh', href: `git@127.0.0.1:${repo.workspace}/${repo.slug}.git` }
      ]
    }
  }
}

interface RepositoryBody {
  is_private?: boolean
  description?: string
  project?: { key?: string }
  mainbranch?: { name?: string }
}

let validator: { ajv: Ajv; validate: ValidateFunction } | undefined

/** The subset the tests check against the spec (scripts/extract-openapi-subset.mjs). */
function compileValidator() {
  const file = new URL('../fixtures/bitbucket/openapi-subset.json', import.meta.url)
  const subset = JSON.parse(fs.readFileSync(file, 'utf8')) as { components: unknown }
  const ajv = new Ajv({ strict: false, allErrors: true })
  ;(addFormatsModule as unknown as (ajv: Ajv) => void)(ajv)
  ajv.addSchema({ $id: 'bb-request', components: optional(subset.components) })
  return { ajv, validate: ajv.getSchema('bb-request#/components/schemas/repository')! }
}

/** The body as a repository document, or the 400 to answer. */
function parseBody(text: string): RepositoryBody | Reply {
  let body: unknown = {}
  if (text.trim()) {
    try {
      body = JSON.parse(text)
    } catch {
      return [400, errorBody('Bad request', 'The request body is not valid JSON.')]
    }
  }
  validator ??= compileValidator()
  if (validator.validate(body)) return body as RepositoryBody
  const detail = validator.ajv.errorsText(validator.validate.errors, { dataVar: 'body' })
  return [400, errorBody('Bad request', detail)]
}

function create(
  state: State,
  workspace: string,
  slug: string,
  body: RepositoryBody,
  identity: Identity,
  status: 200 | 201
): Reply {
  if (!SLUG.test(slug) || /^\.+$/.test(slug)) {
    return [
      400,
      errorBody(
        `Invalid repository slug "${slug}": use lower-case letters, digits, ".", "-" and "_".`
      )
    ]
  }
  // "If the project is not provided, the repository is automatically assigned to the oldest project
  // in the workspace": here the project of the oldest repository.
  const oldest = state.workspaces.get(workspace)!.repos[0]?.projectKey
  const repo = createRepo(state, workspace, slug, {
    projectKey: body.project?.key ?? oldest ?? 'PROJ',
    isPrivate: body.is_private ?? true,
    description: body.description ?? '',
    empty: true
  })
  const object = repositoryObject(state, repo, identity)
  return [
    status,
    JSON.stringify(object),
    status === 201 ? { Location: object.links.self.href } : {}
  ]
}

function update(state: State, repo: Repo, body: RepositoryBody, identity: Identity): Reply {
  const branch = body.mainbranch?.name
  if (branch !== undefined && !branchExists(gitDirOf(state, repo), branch)) {
    return [
      400,
      errorBody(
        `Branch "${branch}" does not exist in ${repo.workspace}/${repo.slug}: push it before making it the main branch.`
      )
    ]
  }
  if (body.description !== undefined) repo.description = body.description
  if (body.is_private !== undefined) repo.isPrivate = body.is_private
  if (body.project?.key !== undefined) repo.projectKey = body.project.key
  if (branch !== undefined) pointHead(state, repo, branch)
  return [200, JSON.stringify(repositoryObject(state, repo, identity))]
}

/** GET, POST and PUT of `/2.0/repositories/{workspace}/{repo_slug}`, after the scope check. */
export function singleRepository(
  state: State,
  method: string,
  url: URL,
  workspace: string,
  slug: string,
  text: string,
  identity: Identity
): Reply {
  const ws = state.workspaces.get(workspace)
  const repo = findRepo(state, workspace, slug)
  const foreign = identity.kind === 'access-token' && identity.workspace !== workspace
  if (method === 'GET') {
    // A repository the credential cannot see is as missing as one that does not exist.
    if (!ws || !repo || foreign)
      return [404, errorBody(`Repository ${workspace}/${slug} not found`)]
    const object = repositoryObject(state, repo, identity)
    const fields = url.searchParams.get('fields')
    return [200, JSON.stringify(fields ? applyFields(object, fields) : object)]
  }
  if (!ws) return [404, errorBody(`No workspace with identifier '${workspace}'.`)]
  if (foreign) return [403, errorBody('This access token does not have access to this workspace.')]
  const body = parseBody(text)
  if (Array.isArray(body)) return body
  if (method === 'POST') {
    if (repo) return [400, errorBody(REPOSITORY_EXISTS)]
    return create(state, workspace, slug, body, identity, 200)
  }
  return repo
    ? update(state, repo, body, identity)
    : create(state, workspace, slug, body, identity, 201)
}
