// Pull requests, their comments, tasks and activity as the API answers them (swagger.v3.json
// `pullrequest`, `pullrequest_comment`, `pullrequest_comment_task`, the activity narrative). Commit
// hashes in a pull request are 12 characters, as Bitbucket abbreviates them there.
import type {
  Participant,
  PullRequest,
  PullRequestComment,
  PullRequestTask
} from './pull-request-model.js'
import { accountJson, link, rendered, repoSummary } from './rest-context.js'
import type { Repo, State } from './types.js'

const short = (hash: string) => hash.slice(0, 12)

function base(state: State, repo: Repo, pr: PullRequest) {
  return `${state.origin}/2.0/repositories/${repo.workspace}/${repo.slug}/pullrequests/${pr.id}`
}

function html(state: State, repo: Repo, pr: PullRequest) {
  return `${state.origin}/${repo.workspace}/${repo.slug}/pull-requests/${pr.id}`
}

/** The short form embedded in comments and activity entries. */
export function pullRequestSummary(state: State, repo: Repo, pr: PullRequest) {
  return {
    type: 'pullrequest',
    id: pr.id,
    title: pr.title,
    links: { self: link(base(state, repo, pr)), html: link(html(state, repo, pr)) }
  }
}

function participantJson(state: State, p: Participant) {
  return {
    type: 'participant',
    user: accountJson(state, p.user),
    role: p.role,
    approved: p.approved,
    state: p.state,
    participated_on: p.participatedOn
  }
}

function endpoint(state: State, repo: Repo, side: { branch: string; commit: string }) {
  return {
    branch: { name: side.branch },
    commit: { hash: short(side.commit) },
    repository: repoSummary(state, repo)
  }
}

/** The whole object, `reviewers` and `participants` included (lists leave them out: see the handler). */
export function pullRequestJson(state: State, repo: Repo, pr: PullRequest) {
  const self = base(state, repo, pr)
  return {
    type: 'pullrequest',
    id: pr.id,
    title: pr.title,
    description: pr.description,
    summary: rendered(pr.description),
    state: pr.state,
    author: accountJson(state, pr.author),
    source: endpoint(state, repo, pr.source),
    destination: endpoint(state, repo, pr.destination),
    merge_commit: pr.mergeCommit ? { hash: short(pr.mergeCommit) } : null,
    // UNCONFIRMED whether Bitbucket counts deleted comments and resolved tasks: here not and yes.
    comment_count: pr.comments.filter(comment => !comment.deleted).length,
    task_count: pr.tasks.length,
    close_source_branch: pr.closeSourceBranch,
    closed_by: pr.closedBy ? accountJson(state, pr.closedBy) : null,
    reason: pr.reason,
    created_on: pr.createdOn,
    updated_on: pr.updatedOn,
    draft: pr.draft,
    queued: false,
    reviewers: pr.participants
      .filter(p => p.role === 'REVIEWER')
      .map(p => accountJson(state, p.user)),
    participants: pr.participants.map(p => participantJson(state, p)),
    links: {
      self: link(self),
      html: link(html(state, repo, pr)),
      commits: link(`${self}/commits`),
      approve: link(`${self}/approve`),
      diff: link(`${self}/diff`),
      diffstat: link(`${self}/diffstat`),
      comments: link(`${self}/comments`),
      activity: link(`${self}/activity`),
      merge: link(`${self}/merge`),
      decline: link(`${self}/decline`)
    }
  }
}

export function commentJson(
  state: State,
  repo: Repo,
  pr: PullRequest,
  comment: PullRequestComment
) {
  const self = `${base(state, repo, pr)}/comments/${comment.id}`
  const htmlHref = `${html(state, repo, pr)}#comment-${comment.id}`
  const parent = comment.parentId
  return {
    type: 'pullrequest_comment',
    id: comment.id,
    created_on: comment.createdOn,
    updated_on: comment.updatedOn,
    content: rendered(comment.raw),
    user: accountJson(state, comment.user),
    deleted: comment.deleted,
    pending: false,
    ...(comment.inline
      ? {
          inline: {
            path: comment.inline.path,
            from: comment.inline.from ?? null,
            to: comment.inline.to ?? null
          }
        }
      : {}),
    ...(parent !== undefined
      ? {
          parent: {
            type: 'pullrequest_comment',
            id: parent,
            links: {
              self: link(`${base(state, repo, pr)}/comments/${parent}`),
              html: link(`${html(state, repo, pr)}#comment-${parent}`)
            }
          }
        }
      : {}),
    pullrequest: pullRequestSummary(state, repo, pr),
    links: { self: link(self), html: link(htmlHref) }
  }
}

export function taskJson(state: State, repo: Repo, pr: PullRequest, task: PullRequestTask) {
  const comment = pr.comments.find(candidate => candidate.id === task.commentId)
  return {
    id: task.id,
    created_on: task.createdOn,
    updated_on: task.updatedOn,
    state: task.resolvedOn ? 'RESOLVED' : 'UNRESOLVED',
    content: rendered(task.raw),
    creator: accountJson(state, task.creator),
    pending: false,
    ...(task.resolvedOn
      ? { resolved_on: task.resolvedOn, resolved_by: accountJson(state, task.resolvedBy!) }
      : {}),
    ...(comment
      ? {
          comment: {
            type: 'pullrequest_comment',
            id: comment.id,
            links: { self: link(`${base(state, repo, pr)}/comments/${comment.id}`) }
          }
        }
      : {}),
    links: {
      self: link(`${base(state, repo, pr)}/tasks/${task.id}`),
      html: link(`${html(state, repo, pr)}/tasks/${task.id}`)
    }
  }
}

/** Every activity entry of one pull request, newest first, each with `pull_request`. */
export function activityJson(state: State, repo: Repo, pr: PullRequest) {
  const summary = pullRequestSummary(state, repo, pr)
  return [...pr.activity].reverse().map(entry => {
    if (entry.kind === 'comment') {
      const comment = pr.comments.find(candidate => candidate.id === entry.commentId)!
      return { comment: commentJson(state, repo, pr, comment), pull_request: summary }
    }
    if (entry.kind !== 'update') {
      const body = { date: entry.date, user: accountJson(state, entry.user), pullrequest: summary }
      return { [entry.kind]: body, pull_request: summary }
    }
    const side = (branch: string, commit: string) => ({
      ...endpoint(state, repo, { branch, commit }),
      commit: { type: 'commit', hash: short(commit) }
    })
    return {
      update: {
        state: entry.state,
        title: entry.title,
        description: entry.description,
        reason: entry.reason,
        author: accountJson(state, entry.user),
        date: entry.date,
        source: side(pr.source.branch, entry.source),
        destination: side(pr.destination.branch, entry.destination)
      },
      pull_request: summary
    }
  })
}
