// Creating and updating a repository through the REST API, with GitHub's validation and wording:
// "Repository creation failed." for a taken name, "Validation Failed" for a default branch that
// does not exist, schema refusals as "Invalid request." for fields of the wrong type.
import { execFileSync } from 'node:child_process'
import {
  branchExists,
  createRepo,
  gitEnv,
  isEmpty,
  normalizeRepoName,
  type RepoSettings
} from './repository.js'
import { answer, repoJson, type Answer } from './rest-json.js'
import {
  findAccount,
  findRepo,
  gitDirOf,
  type Account,
  type Repo,
  type State,
  type Visibility
} from './types.js'

type Body = Record<string, unknown>

const VISIBILITIES: Visibility[] = ['public', 'private', 'internal']

const problemsParsingJson = (): Answer => answer(400, 'Problems parsing JSON')

const wrongType = (field: string, value: unknown, type: string): Answer =>
  answer(
    422,
    `Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(value)} is not a ${type}.`
  )

const creationFailed = (error: object): Answer =>
  answer(422, 'Repository creation failed.', { errors: [{ resource: 'Repository', ...error }] })

const validationFailed = (error: object): Answer =>
  answer(422, 'Validation Failed', { errors: [{ resource: 'Repository', ...error }] })

const internalForUser = (): Answer =>
  validationFailed({
    code: 'custom',
    field: 'visibility',
    message: 'internal repositories can only be owned by an organization'
  })

/** Checks the optional fields both create and update take; returns the refusal or the values. */
function settingsFrom(body: Body, current: RepoSettings): Answer | RepoSettings {
  const settings = { ...current }
  for (const field of ['description', 'homepage'] as const) {
    const value = body[field]
    if (value === undefined) continue
    if (value !== null && typeof value !== 'string') return wrongType(field, value, 'string')
    settings[field] = value
  }
  const flags = {
    has_issues: 'hasIssues',
    has_wiki: 'hasWiki',
    has_projects: 'hasProjects'
  } as const
  for (const [field, key] of Object.entries(flags)) {
    const value = body[field]
    if (value === undefined) continue
    if (typeof value !== 'boolean') return wrongType(field, value, 'boolean')
    settings[key] = value
  }
  if (body.private !== undefined) {
    if (typeof body.private !== 'boolean') return wrongType('private', body.private, 'boolean')
    settings.visibility = body.private ? 'private' : 'public'
  }
  if (body.visibility !== undefined) {
    if (!VISIBILITIES.includes(body.visibility as Visibility))
      return validationFailed({ code: 'invalid', field: 'visibility' })
    settings.visibility = body.visibility as Visibility
  }
  return settings
}

/** `POST /orgs/{org}/repos` and `POST /user/repos`, once the caller may create in `owner`. */
export function createRepoFromRequest(
  state: State,
  owner: Account,
  body: Body | undefined
): Answer {
  if (!body) return problemsParsingJson()
  if (body.name === undefined) return creationFailed({ code: 'missing_field', field: 'name' })
  if (typeof body.name !== 'string') return wrongType('name', body.name, 'string')
  const named = normalizeRepoName(body.name)
  if ('error' in named)
    return creationFailed({ code: 'custom', field: 'name', message: named.error })
  if (findRepo(state, owner.login, named.name))
    return creationFailed({
      code: 'custom',
      field: 'name',
      message: 'name already exists on this account'
    })
  const settings = settingsFrom(body, {
    visibility: 'public',
    description: null,
    homepage: null,
    hasIssues: true,
    hasWiki: true,
    hasProjects: true
  })
  if ('status' in settings) return settings
  if (settings.visibility === 'internal' && owner.type !== 'Organization') return internalForUser()
  const repo = createRepo(state, owner, named.name, settings, true)
  return { status: 201, body: repoJson(state, repo, { admin: true, push: true, pull: true }) }
}

/** `PATCH /repos/{owner}/{repo}` by an admin: every field checked before anything changes. */
export function updateRepo(state: State, repo: Repo, body: Body | undefined): Answer | undefined {
  if (!body) return problemsParsingJson()
  if (body.name !== undefined && body.name !== repo.name)
    return validationFailed({
      code: 'custom',
      field: 'name',
      message: 'the local GitHub does not rename repositories'
    })
  const settings = settingsFrom(body, repo)
  if ('status' in settings) return settings
  if (settings.visibility === 'internal' && findAccount(state, repo.owner)?.type !== 'Organization')
    return internalForUser()
  const branch = body.default_branch
  if (branch !== undefined) {
    if (typeof branch !== 'string') return wrongType('default_branch', branch, 'string')
    if (isEmpty(state, repo))
      return validationFailed({
        code: 'invalid',
        field: 'default_branch',
        message:
          'Cannot update default branch for an empty repository. Please init the repository and push first.'
      })
    if (!branchExists(gitDirOf(state, repo), branch))
      return validationFailed({
        code: 'invalid',
        field: 'default_branch',
        message: `The branch ${branch} was not found.`
      })
    execFileSync('git', ['symbolic-ref', 'HEAD', `refs/heads/${branch}`], {
      cwd: gitDirOf(state, repo),
      env: gitEnv(state)
    })
  }
  Object.assign(repo, settings)
  return undefined
}
