// The offline page of a repository's metadata archive (ArchivePaths.page): its pull requests and
// their conversations in one self-contained HTML file, readable in any browser without a network.
// Titles, comments, branch and user names are written by anyone with access, so every one of them
// is escaped text; the page has no scripts, no event handlers and no external resources, and its
// Content-Security-Policy would stop them if any slipped in. The same input gives the same bytes,
// so the archive deduplicates.
import { createHash } from 'node:crypto'
import type { ApiPullRequest, ArchivedPullRequest } from './layout.js'
import { ArchivePaths } from './layout.js'
import {
  activity,
  body,
  Conversation,
  esc,
  millis,
  obj,
  str,
  tasks,
  when,
  who
} from './page-parts.js'

export interface PullRequestPageInput {
  repository: { workspace: string; slug: string }
  pullRequests: ArchivedPullRequest[]
  /** Kept diffs by pull request id (ArchivePaths.pullRequestDiff). */
  diffs?: Map<number, string>
  /** When the archive was written (ISO time): the page reads no clock of its own. */
  generatedAt: string
}

const CSS = [
  ':root{color-scheme:light dark;--muted:#5f6368;--line:#d0d7de;--soft:#f6f8fa}',
  '@media (prefers-color-scheme:dark){:root{--muted:#9aa0a6;--line:#3d444d;--soft:#161b22}}',
  'body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:75rem;margin:0 auto;padding:1rem}',
  'h1{font-size:1.5rem}h2{font-size:1.25rem;margin:0 0 .5rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}h4{margin:.8rem 0 .3rem}',
  'table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}',
  'section.pr{border-top:2px solid var(--line);margin-top:2rem;padding-top:1rem}',
  'dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}',
  '.text,pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0}',
  'pre.diff{white-space:pre;overflow-x:auto;background:var(--soft);padding:.5rem;font-size:13px}',
  'ol.thread,ol.replies,ol.activity,ul.tasks{list-style:none;padding-left:0;margin:.3rem 0}',
  'ol.replies{padding-left:1.2rem;border-left:2px solid var(--line);margin-left:.3rem}',
  'li.comment,li.task{margin:.4rem 0;padding:.3rem .5rem;background:var(--soft);border-radius:4px}',
  '.meta,.muted{color:var(--muted);font-size:.9em}',
  '.tag,.state{display:inline-block;border:1px solid var(--line);border-radius:3px;padding:0 .3rem;font-size:.8em}',
  '.state-open{color:#1a7f37}.state-merged{color:#8250df}.state-declined{color:#cf222e}',
  '.line-ref{font-weight:600;margin:.4rem 0 0}.file{margin-left:.5rem}code{overflow-wrap:anywhere}'
].join('\n')

/** Nothing runs, loads or submits; the one style element is allowed by its hash, nothing else. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'"
].join('; ')

const STATES = new Set(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED'])

function state(pr: ApiPullRequest): string {
  const value = str(pr.state) ?? 'UNKNOWN'
  const kind = STATES.has(value) ? value.toLowerCase() : 'other'
  return `<span class="state state-${kind}">${esc(value)}</span>`
}

function branch(side: ApiPullRequest['source']): string {
  const name = str(obj(obj(side)?.branch)?.name)
  return name
    ? `<code class="branch"><bdi>${esc(name)}</bdi></code>`
    : '<span class="muted">?</span>'
}

function branches(pr: ApiPullRequest): string {
  return `${branch(pr.source)} → ${branch(pr.destination)}`
}

function hash(side: unknown): string {
  const value = str(obj(obj(side)?.commit)?.hash) ?? str(obj(side)?.hash)
  return value ? `<code class="hash">${esc(value)}</code>` : ''
}

function people(list: unknown[]): string {
  return list.length > 0 ? list.map(who).join(', ') : '<span class="muted">none</span>'
}

function participants(pr: ApiPullRequest) {
  const all = Array.isArray(pr.participants) ? pr.participants.filter(p => obj(p)) : []
  return {
    approved: all.filter(p => p.approved === true).map(p => p.user),
    changes: all.filter(p => p.state === 'changes_requested').map(p => p.user)
  }
}

function count(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback
}

function list<T>(value: T[] | undefined): T[] {
  return Array.isArray(value) ? value : []
}

/** Bitbucket's own count, else the comments not deleted. */
function commentCount(archived: ArchivedPullRequest): number {
  const kept = list(archived.comments).filter(comment => obj(comment) && !comment.deleted)
  return count(archived.pullRequest.comment_count, kept.length)
}

/** A stable anchor per pull request; its id is a number in every archive the collectors write. */
const anchorOf = (pr: ApiPullRequest) => `pr-${esc(pr.id)}`

function indexRow(out: string[], archived: ArchivedPullRequest) {
  const pr = archived.pullRequest
  const anchor = anchorOf(pr)
  const approvals = participants(pr).approved.length
  out.push(
    `<tr><td><a href="#${anchor}">#${esc(pr.id)}</a></td>` +
      `<td><a href="#${anchor}"><bdi>${esc(pr.title)}</bdi></a></td>` +
      `<td>${state(pr)}</td><td>${who(pr.author)}</td><td>${branches(pr)}</td>` +
      `<td>${when(pr.created_on)}</td><td>${when(pr.updated_on)}</td>` +
      `<td>${esc(commentCount(archived))}</td><td>${esc(count(pr.task_count, list(archived.tasks).length))}</td>` +
      `<td>${esc(approvals)}</td></tr>\n`
  )
}

function facts(out: string[], archived: ArchivedPullRequest) {
  const pr = archived.pullRequest
  const { approved, changes } = participants(pr)
  const taskList = list(archived.tasks).filter(task => obj(task))
  const resolved = taskList.filter(task => task.state === 'RESOLVED').length
  const rows: [string, string][] = [
    ['Author', who(pr.author)],
    [
      'Branches',
      `${branch(pr.source)} ${hash(pr.source)} → ${branch(pr.destination)} ${hash(pr.destination)}`
    ],
    ['Created', when(pr.created_on)],
    ['Updated', when(pr.updated_on)]
  ]
  if (pr.closed_by) rows.push(['Closed by', who(pr.closed_by)])
  if (str(pr.reason)) rows.push(['Reason', `<span class="text">${esc(pr.reason)}</span>`])
  if (pr.merge_commit) rows.push(['Merge commit', hash(pr.merge_commit)])
  rows.push(
    ['Comments', esc(commentCount(archived))],
    ['Tasks', `${esc(count(pr.task_count, taskList.length))} (${resolved} resolved)`],
    ['Reviewers', people(list(pr.reviewers))],
    ['Approved by', people(approved)]
  )
  if (changes.length > 0) rows.push(['Changes requested by', people(changes)])
  out.push('<dl class="facts">')
  for (const [term, value] of rows) out.push(`<dt>${term}</dt><dd>${value}</dd>`)
  out.push('</dl>')
}

function statuses(out: string[], values: readonly Record<string, unknown>[]) {
  const valid = values.filter(status => obj(status))
  if (valid.length === 0) return out.push('<p class="muted">No build statuses.</p>')
  out.push(
    '<table class="statuses"><thead><tr><th>State</th><th>Name</th><th>Key</th><th>Description</th>' +
      '<th>Address</th><th>Updated</th></tr></thead><tbody>'
  )
  for (const status of valid)
    out.push(
      `<tr><td><span class="tag">${esc(status.state)}</span></td><td>${esc(status.name)}</td>` +
        `<td><code>${esc(status.key)}</code></td><td>${esc(status.description)}</td>` +
        `<td><code>${esc(status.url)}</code></td><td>${when(status.updated_on ?? status.created_on)}</td></tr>`
    )
  out.push('</tbody></table>')
}

function section(out: string[], archived: ArchivedPullRequest, diff: string | undefined) {
  const pr = archived.pullRequest
  const anchor = anchorOf(pr)
  const conversation = new Conversation(esc(pr.id), list(archived.comments))
  out.push(
    `<section class="pr" id="${anchor}"><h2><a href="#${anchor}">#${esc(pr.id)}</a> ` +
      `<bdi>${esc(pr.title)}</bdi> ${state(pr)}</h2>`
  )
  facts(out, archived)
  out.push('<h3>Description</h3>', body(pr.description, 'No description.'))
  out.push('<h3>Comments</h3>')
  if (conversation.general.length > 0) conversation.thread(out, conversation.general)
  else out.push('<p class="muted">No comments on the pull request itself.</p>')
  if (conversation.inline.size > 0) {
    out.push('<h3>Inline comments</h3>')
    conversation.inlineThreads(out)
  }
  const unreached = conversation.unreached()
  if (unreached.length > 0) {
    out.push('<h3>Other comments</h3>')
    conversation.thread(out, unreached)
  }
  out.push('<h3>Tasks</h3>')
  tasks(out, list(archived.tasks), conversation)
  out.push('<h3>Activity</h3>')
  activity(out, list(archived.activity), conversation)
  out.push('<h3>Build statuses</h3>')
  statuses(out, list(archived.statuses))
  if (diff !== undefined) {
    out.push('<h3>Diff</h3>', `<pre class="diff">${esc(diff)}</pre>`)
  } else if (archived.diffKept) {
    const file = typeof pr.id === 'number' ? ArchivePaths.pullRequestDiff(pr.id) : ''
    out.push('<h3>Diff</h3>', `<p class="muted">Kept beside this page in ${esc(file)}.</p>`)
  }
  out.push('<p><a href="#top">Back to the list</a></p></section>\n')
}

/** Newest first: ids grow as pull requests are opened, so the highest id is the newest. */
function newestFirst(a: ArchivedPullRequest, b: ArchivedPullRequest): number {
  const id = (archived: ArchivedPullRequest) =>
    typeof archived.pullRequest.id === 'number' ? archived.pullRequest.id : -Infinity
  const created = (archived: ArchivedPullRequest) => {
    const ms = millis(archived.pullRequest.created_on)
    return Number.isNaN(ms) ? -Infinity : ms
  }
  return id(b) - id(a) || created(b) - created(a) || 0
}

/** One self-contained, offline page of the repository's pull requests (ArchivePaths.page). */
export function renderPullRequestPage(input: PullRequestPageInput): string {
  const name = `${input.repository.workspace}/${input.repository.slug}`
  const pullRequests = input.pullRequests
    .filter(archived => obj(archived) && obj(archived.pullRequest))
    .sort(newestFirst)
  const out: string[] = [
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    `<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">\n`,
    '<meta name="referrer" content="no-referrer">\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    `<title>Pull requests of ${esc(name)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n`,
    `<header id="top"><h1>Pull requests of <bdi>${esc(name)}</bdi></h1>`,
    `<p class="meta">${pullRequests.length} pull request${pullRequests.length === 1 ? '' : 's'}, `,
    `archived ${when(input.generatedAt)}. Every text below is shown as its author wrote it.</p></header>\n`
  ]
  if (pullRequests.length === 0) {
    out.push('<p class="muted">No pull requests in the archive.</p>')
  } else {
    out.push(
      '<nav><table class="index"><thead><tr><th>#</th><th>Title</th><th>State</th><th>Author</th>' +
        '<th>Branches</th><th>Created</th><th>Updated</th><th>Comments</th><th>Tasks</th>' +
        '<th>Approvals</th></tr></thead><tbody>\n'
    )
    for (const archived of pullRequests) indexRow(out, archived)
    out.push('</tbody></table></nav>\n<main>\n')
    for (const archived of pullRequests) {
      const id = archived.pullRequest.id
      section(out, archived, typeof id === 'number' ? input.diffs?.get(id) : undefined)
    }
    out.push('</main>\n')
  }
  out.push('</body>\n</html>\n')
  return out.join('')
}
