// Pull requests over REST (swagger.v3.json, /repositories/{workspace}/{repo_slug}/pullrequests...):
// the list (repeated `state`, OPEN by default; `pagelen` at most 50; `q`, `sort`, `fields`, without
// participants and reviewers unless `fields` asks), one pull request, its comments, tasks, statuses and
// activity (a cursor-paged log that takes no `q`), the repository-wide activity, and diff and patch
// as redirects to the diff host.
import { diffLocation } from './diff-host.js'
import { errorBody } from './faults.js'
import { applyFields } from './fields.js'
import { paginate, queried } from './paging.js'
import { activityJson, commentJson, pullRequestJson, taskJson } from './pull-request-json.js'
import { accountOf } from './metadata-state.js'
import { openPullRequest, pullRequestsOf, type PullRequest } from './pull-request-model.js'
import {
  badRequest,
  isReply,
  json,
  jsonBody,
  link,
  notFound,
  repoOf,
  type Ctx,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import { requestBodyProblem } from './spec-operations.js'
import type { Repo } from './types.js'

const R = '/repositories/{workspace}/{repo_slug}'
const PR = `${R}/pullrequests/{pull_request_id}`
const STATES = ['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']

function withPullRequest(ctx: Ctx, then: (repo: Repo, pr: PullRequest) => Reply): Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const id = Number(ctx.params.pull_request_id)
  const pr = pullRequestsOf(ctx.state.metadata, repo).find(candidate => candidate.id === id)
  return pr ? then(repo, pr) : notFound(`Pull request ${ctx.params.pull_request_id} not found`)
}

/** Lists answer participants and reviewers only when `fields` names them (`+values.participants`). */
function listFields(body: Record<string, unknown>, fields: string) {
  const asked = fields.split(',').map(field => field.trim().replace(/^\+/, ''))
  const wants = (name: string) =>
    asked.some(field => field === `values.${name}` || field.startsWith(`values.${name}.`))
  const values = (body.values as Record<string, unknown>[]).map(value => {
    const { participants, reviewers, ...rest } = value
    return {
      ...rest,
      ...(wants('reviewers') ? { reviewers } : {}),
      ...(wants('participants') ? { participants } : {})
    }
  })
  return { ...body, values }
}

function list(ctx: Ctx): Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const asked = ctx.url.searchParams.getAll('state').map(state => state.toUpperCase())
  const bad = asked.find(state => !STATES.includes(state))
  if (bad) return [400, errorBody(`Invalid state: ${bad}`)]
  const states = asked.length > 0 ? asked : ['OPEN']
  const items = pullRequestsOf(ctx.state.metadata, repo)
    .filter(pr => states.includes(pr.state))
    .map(pr => pullRequestJson(ctx.state, repo, pr))
  // Newest first unless `sort` says otherwise: the real default order is not documented.
  const kept = queried(ctx, items, '-id')
  if (isReply(kept)) return kept
  return paginate(ctx, kept, { maxPagelen: 50, fields: listFields })
}

type BranchRef = { branch?: { name?: unknown } } | undefined

/** A new pull request, authored by the credential's user: both branches must exist, as on Bitbucket. */
async function create(ctx: Ctx): Promise<Reply> {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const body = jsonBody(ctx)
  if (isReply(body)) return body
  const problem = requestBodyProblem('post', `${R}/pullrequests`, body)
  if (problem) return badRequest('Bad request', problem)
  const source = (body.source as BranchRef)?.branch?.name
  const destination = (body.destination as BranchRef)?.branch?.name
  if (typeof body.title !== 'string' || !body.title.trim()) return badRequest('title is required')
  if (typeof source !== 'string') return badRequest('source.branch.name is required')
  const taken = pullRequestsOf(ctx.state.metadata, repo).some(
    pr =>
      pr.state === 'OPEN' &&
      pr.source.branch === source &&
      (typeof destination !== 'string' || pr.destination.branch === destination)
  )
  if (taken) return badRequest('There are no changes to be pulled', 'an open pull request exists')
  const author = accountOf(ctx.state.metadata, repo.workspace, ctx.identity)
  const opened = await openPullRequest(ctx.state, repo, {
    title: body.title,
    source,
    ...(typeof destination === 'string' ? { destination } : {}),
    description: typeof body.description === 'string' ? body.description : '',
    author,
    closeSourceBranch: body.close_source_branch === true
  }).catch((error: Error) => error)
  if (opened instanceof Error) return badRequest(opened.message.replace(/^local Bitbucket: /, ''))
  const self = `${ctx.url.origin}${ctx.url.pathname.replace(/\/$/, '')}/${opened.id}`
  return json(201, pullRequestJson(ctx.state, repo, opened), { Location: self })
}

function single(ctx: Ctx): Reply {
  return withPullRequest(ctx, (repo, pr) => {
    const object = pullRequestJson(ctx.state, repo, pr)
    const fields = ctx.url.searchParams.get('fields')
    return json(200, fields ? applyFields(object, fields) : object)
  })
}

/** A pull request's collection, narrowed by `q`, ordered by `sort` and paged. */
const pagedOf =
  (items: (repo: Repo, pr: PullRequest, ctx: Ctx) => unknown[]) =>
  (ctx: Ctx): Reply =>
    withPullRequest(ctx, (repo, pr) => {
      const kept = queried(ctx, items(repo, pr, ctx))
      return isReply(kept) ? kept : paginate(ctx, kept)
    })

const comments = pagedOf((repo, pr, ctx) =>
  pr.comments.map(comment => commentJson(ctx.state, repo, pr, comment))
)

function comment(ctx: Ctx): Reply {
  return withPullRequest(ctx, (repo, pr) => {
    const found = pr.comments.find(candidate => String(candidate.id) === ctx.params.comment_id)
    if (!found) return notFound(`Comment ${ctx.params.comment_id} not found`)
    return json(200, commentJson(ctx.state, repo, pr, found))
  })
}

const tasks = pagedOf((repo, pr, ctx) => pr.tasks.map(task => taskJson(ctx.state, repo, pr, task)))

/** The statuses of the pull request's source commit, as builds reported them. */
const statuses = pagedOf((repo, pr, ctx) => {
  const base = `${ctx.state.origin}/2.0/repositories/${repo.workspace}/${repo.slug}`
  const commit = pr.source.commit
  return (ctx.state.metadata.statuses.get(repo.uuid)?.get(commit) ?? []).map(status => ({
    type: 'build',
    key: status.key,
    state: status.state,
    name: status.name,
    url: status.url,
    description: status.description,
    ...(status.refname ? { refname: status.refname } : {}),
    created_on: status.createdOn,
    updated_on: status.updatedOn,
    links: {
      self: link(`${base}/commit/${commit}/statuses/build/${encodeURIComponent(status.key)}`),
      commit: link(`${base}/commit/${commit}`)
    }
  }))
})

/** The activity log takes no `q` (BCLOUD-21067): it is ignored, every entry answered. */
function activity(ctx: Ctx): Reply {
  return withPullRequest(ctx, (repo, pr) =>
    paginate(ctx, activityJson(ctx.state, repo, pr), {
      cursor: true,
      maxPagelen: 50,
      defaultPagelen: 50
    })
  )
}

const entryDate = (entry: Record<string, unknown>) => {
  const body = Object.values(entry)[0] as { date?: string; created_on?: string }
  return body.date ?? body.created_on ?? ''
}

/** Every pull request's activity in one log, newest first, each entry naming its `pull_request`. */
function repositoryActivity(ctx: Ctx): Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const entries = pullRequestsOf(ctx.state.metadata, repo).flatMap(pr =>
    activityJson(ctx.state, repo, pr)
  )
  entries.sort((a, b) => (entryDate(a) < entryDate(b) ? 1 : entryDate(a) > entryDate(b) ? -1 : 0))
  return paginate(ctx, entries, { cursor: true, maxPagelen: 50, defaultPagelen: 50 })
}

const redirect =
  (kind: 'diff' | 'patch') =>
  (ctx: Ctx): Reply =>
    withPullRequest(ctx, (repo, pr) => [
      302,
      '',
      { Location: diffLocation(ctx.state, repo, pr, kind) }
    ])

export const pullRequestRoutes: Routes = {
  [`get ${R}/pullrequests`]: list,
  [`post ${R}/pullrequests`]: create,
  [`get ${R}/pullrequests/activity`]: repositoryActivity,
  [`get ${PR}`]: single,
  [`get ${PR}/activity`]: activity,
  [`get ${PR}/comments`]: comments,
  [`get ${PR}/comments/{comment_id}`]: comment,
  [`get ${PR}/tasks`]: tasks,
  [`get ${PR}/statuses`]: statuses,
  [`get ${PR}/diff`]: redirect('diff'),
  [`get ${PR}/patch`]: redirect('patch')
}
