// The fixture functions of metadata-types.ts over the local Bitbucket's state: what users do in
// Bitbucket's web interface (open, comment, approve, merge pull requests; upload Downloads; write
// snippets), and any settings endpoint called as the workspace admin.
import * as fs from 'node:fs'
import { storeDownload, downloadsOf } from './downloads.js'
import { findUser, makeAccount, stamp, type Account } from './metadata-state.js'
import type { MetadataAdmin, PullRequestInfo, StorageRequest } from './metadata-types.js'
import { addComment, addTask, deleteComment, review } from './pull-request-conversation.js'
import {
  closePullRequest,
  editPullRequest,
  findPullRequest,
  openPullRequest,
  type PullRequest
} from './pull-request-model.js'
import { routeMetadata, serves } from './rest-metadata.js'
import { deleteBranchRef } from './server-git.js'
import { commentOnSnippet, createSnippet, findSnippet, snippetGitDir } from './snippet-model.js'
import { findRepo, gitDirOf, type State } from './types.js'

const info = (pr: PullRequest): PullRequestInfo => ({
  id: pr.id,
  state: pr.state,
  title: pr.title,
  source: { ...pr.source },
  destination: { ...pr.destination },
  ...(pr.mergeCommit ? { mergeCommit: pr.mergeCommit } : {}),
  createdOn: pr.createdOn,
  updatedOn: pr.updatedOn,
  diff: pr.diff,
  patch: pr.patch
})

type Admin = Omit<
  MetadataAdmin,
  'downloadsOrigin' | 'diffOrigin' | 'rateLimitPerHour' | 'storageRequests'
> & {
  storageRequests: StorageRequest[]
}

export function createMetadataAdmin(state: State): Admin {
  const meta = state.metadata
  const repoOrThrow = (workspace: string, slug: string) => {
    const repo = findRepo(state, workspace, slug)
    if (!repo) throw new Error(`local Bitbucket: no repository ${workspace}/${slug}`)
    return repo
  }
  const member = (workspace: string, nickname: string): Account => {
    const user = findUser(meta, workspace, nickname)
    if (!user)
      throw new Error(
        `local Bitbucket: ${nickname} is not a member of ${workspace} (addUser first)`
      )
    return user
  }
  const pull = (workspace: string, slug: string, id: number) =>
    findPullRequest(state, workspace, slug, id)
  const close = (
    workspace: string,
    slug: string,
    id: number,
    opts: { by?: string; reason?: string; message?: string; at?: string },
    merge: boolean
  ) => {
    const { repo, pr } = pull(workspace, slug, id)
    const by = opts.by ? member(workspace, opts.by) : undefined
    return closePullRequest(state, repo, pr, { ...opts, merge, by })
  }

  async function adminRequest(method: string, path: string, body?: unknown) {
    const url = new URL(`${state.origin}/2.0${path}`)
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
    const answer = routeMetadata(
      state,
      {},
      {
        method: method.toUpperCase(),
        url,
        body: Buffer.from(text),
        headers: { 'content-type': 'application/json' }
      }
    )
    if (!answer) throw new Error(`local Bitbucket: no metadata endpoint ${method} ${path}`)
    const [status, reply] = await answer
    let parsed: unknown = reply
    try {
      parsed = reply ? JSON.parse(reply) : undefined
    } catch {
      // not JSON: answered as text
    }
    return { status, body: parsed }
  }

  return {
    storageRequests: state.storageRequests,
    metadataOptions: meta.options,
    addUser(workspace, user) {
      if (!state.workspaces.has(workspace))
        throw new Error(`local Bitbucket: no workspace ${workspace}`)
      const users = meta.users.get(workspace) ?? []
      meta.users.set(workspace, users)
      let account = users.find(candidate => candidate.nickname === user.nickname)
      if (!account) users.push((account = makeAccount(user.nickname, user.displayName)))
      return {
        uuid: account.uuid,
        nickname: account.nickname,
        display_name: account.displayName,
        account_id: account.accountId
      }
    },
    addGroup(workspace, group) {
      const groups = meta.groups.get(workspace) ?? []
      meta.groups.set(workspace, groups)
      if (groups.some(existing => existing.slug === group.slug))
        throw new Error(`local Bitbucket: group ${group.slug} exists in ${workspace}`)
      groups.push({
        slug: group.slug,
        name: group.name ?? group.slug,
        members: (group.members ?? []).map(nickname => member(workspace, nickname))
      })
    },
    async addPullRequest(workspace, slug, pr) {
      const repo = repoOrThrow(workspace, slug)
      const opened = await openPullRequest(state, repo, {
        ...pr,
        author: member(workspace, pr.author),
        reviewers: (pr.reviewers ?? []).map(nickname => member(workspace, nickname))
      })
      return info(opened)
    },
    updatePullRequest(workspace, slug, id, change) {
      const { pr } = pull(workspace, slug, id)
      editPullRequest(state, pr, {
        ...change,
        by: change.by ? member(workspace, change.by) : undefined
      })
    },
    commentOnPullRequest(workspace, slug, id, comment) {
      const { pr } = pull(workspace, slug, id)
      return addComment(state, pr, { ...comment, user: member(workspace, comment.author) })
    },
    deletePullRequestComment: (workspace, slug, id, commentId, at) =>
      deleteComment(state, pull(workspace, slug, id).pr, commentId, at),
    approve: (workspace, slug, id, user, at) =>
      review(state, pull(workspace, slug, id).pr, member(workspace, user), 'approval', at),
    requestChanges: (workspace, slug, id, user, at) =>
      review(state, pull(workspace, slug, id).pr, member(workspace, user), 'changes_requested', at),
    addPullRequestTask(workspace, slug, id, task) {
      const { pr } = pull(workspace, slug, id)
      return addTask(state, pr, { ...task, creator: member(workspace, task.creator) })
    },
    addCommitStatus(workspace, slug, commit, status) {
      const repo = repoOrThrow(workspace, slug)
      if (!/^[0-9a-f]{40}$/.test(commit))
        throw new Error(`local Bitbucket: a status names a full commit id (${commit})`)
      const byCommit = meta.statuses.get(repo.uuid) ?? new Map()
      meta.statuses.set(repo.uuid, byCommit)
      const date = stamp(meta, status.at)
      const list = byCommit.get(commit) ?? []
      byCommit.set(commit, list)
      list.push({
        name: status.key,
        url: `https://ci.example.com/${status.key}`,
        description: '',
        ...status,
        createdOn: date,
        updatedOn: date
      })
    },
    declinePullRequest: (workspace, slug, id, opts = {}) => close(workspace, slug, id, opts, false),
    async mergePullRequest(workspace, slug, id, opts = {}) {
      await close(workspace, slug, id, opts, true)
      return pull(workspace, slug, id).pr.mergeCommit!
    },
    deleteBranch: (workspace, slug, branch) =>
      deleteBranchRef(state, gitDirOf(state, repoOrThrow(workspace, slug)), branch),
    pullRequest(workspace, slug, id) {
      const repo = repoOrThrow(workspace, slug)
      const pr = meta.pullRequests.get(repo.uuid)?.find(candidate => candidate.id === id)
      return pr && info(pr)
    },
    addDownload(workspace, slug, name, bytes, opts = {}) {
      const uploader = opts.uploader
        ? member(workspace, opts.uploader)
        : makeAccount('fixture-admin', 'Fixture Admin')
      storeDownload(state, repoOrThrow(workspace, slug), name, bytes, uploader, opts.at)
    },
    download(workspace, slug, name) {
      const found = downloadsOf(state, repoOrThrow(workspace, slug)).find(d => d.name === name)
      return found && fs.readFileSync(found.file)
    },
    async addSnippet(workspace, snippet) {
      const made = await createSnippet(state, workspace, {
        ...snippet,
        creator: member(workspace, snippet.creator)
      })
      return { id: made.id, gitDir: snippetGitDir(state, made) }
    },
    commentOnSnippet(workspace, id, comment) {
      const snippet = findSnippet(state, workspace, id)
      if (!snippet) throw new Error(`local Bitbucket: no snippet ${workspace}/${id}`)
      return commentOnSnippet(state, snippet, {
        ...comment,
        user: member(workspace, comment.author)
      })
    },
    adminRequest,
    async setSetting(workspace, slug, path, body) {
      const full = `/repositories/${workspace}/${slug}/${path.replace(/^\//, '')}`
      const method = serves('POST', `/2.0${full}`) ? 'POST' : 'PUT'
      const answer = await adminRequest(method, full, body)
      if (answer.status < 200 || answer.status > 299)
        throw new Error(
          `local Bitbucket: ${method} ${full} answered ${answer.status}: ${JSON.stringify(answer.body)}`
        )
      return answer.body
    }
  }
}
