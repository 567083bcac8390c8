// The pieces of the offline page (page.ts): escaping, dates and people, and a pull request's
// conversation: comments threaded by `parent`, inline comments grouped on their file and line,
// activity in time order, tasks. Everything here was written by someone with access to the
// repository, so it is only ever escaped text, and ids only ever appear inside escaped attributes.
import type { ApiAccount, ApiComment } from './layout.js'

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;'
}

/** Text for HTML content and quoted attributes: strings and numbers as they are, anything else empty. */
export function esc(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : ''
  return SPECIAL.test(text) ? text.replace(SPECIALS, c => ENTITIES[c]) : text
}

const SPECIAL = /[&<>"']/
const SPECIALS = /[&<>"']/g

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

export function obj(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/** Milliseconds for sorting; NaN when the value is not a date. */
export function millis(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : NaN
}

/** Earlier first, dateless last, then by `tie` (ids), so any input order gives the same page. */
export function byTime<T>(
  items: readonly T[],
  date: (item: T) => unknown,
  tie: (item: T) => number
) {
  const keyed = items.map(item => ({ item, ms: millis(date(item)), tie: tie(item) }))
  keyed.sort((a, b) => {
    const am = Number.isNaN(a.ms) ? Infinity : a.ms
    const bm = Number.isNaN(b.ms) ? Infinity : b.ms
    return am !== bm ? (am < bm ? -1 : 1) : a.tie - b.tie
  })
  return keyed.map(entry => entry.item)
}

/** As Bitbucket writes its dates, already in UTC: shown without a round trip through Date. */
const UTC = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d{1,9})?)?(?:Z|\+00:00)$/

/** A date in UTC to the minute, the API's own value in `datetime`; never the clock of the machine. */
export function when(value: unknown): string {
  const raw = str(value)
  if (!raw) return '<span class="muted">no date</span>'
  const utc = UTC.exec(raw)
  // Digits and separators only: nothing in it to escape.
  if (utc) return `<time datetime="${raw}">${utc[1]} ${utc[2]} UTC</time>`
  const ms = Date.parse(raw)
  const shown = Number.isNaN(ms)
    ? raw
    : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`
  return `<time datetime="${esc(raw)}">${esc(shown)}</time>`
}

export function who(account: unknown): string {
  const a = obj(account) as ApiAccount | undefined
  const name = str(a?.display_name) ?? str(a?.nickname) ?? str(a?.account_id)
  return name ? `<bdi class="user">${esc(name)}</bdi>` : '<span class="muted">unknown user</span>'
}

/** Text as its author wrote it (`raw`); the API's `html` rendering is never used. */
export function body(raw: unknown, empty: string): string {
  const text = str(raw)
  return text ? `<div class="text">${esc(text)}</div>` : `<p class="muted">${empty}</p>`
}

const commentAnchor = (pr: string, id: number) => `c-${pr}-${esc(id)}`

function commentItem(pr: string, comment: ApiComment, missingParent: boolean): string {
  const anchor = commentAnchor(pr, comment.id)
  const edited =
    str(comment.updated_on) && comment.updated_on !== comment.created_on && !comment.deleted
      ? ` · edited ${when(comment.updated_on)}`
      : ''
  const orphan = missingParent
    ? ` · <span class="muted">reply to #${esc(comment.parent?.id)}, not in the archive</span>`
    : ''
  const meta =
    `<div class="meta"><a href="#${anchor}">#${esc(comment.id)}</a> ${who(comment.user)}` +
    ` · ${when(comment.created_on)}${edited}${orphan}` +
    (comment.deleted ? ' · <span class="tag">deleted</span>' : '') +
    '</div>'
  return comment.deleted
    ? `<li class="comment deleted" id="${anchor}">${meta}<p class="muted">This comment was deleted.</p>`
    : `<li class="comment" id="${anchor}">${meta}${body(comment.content?.raw, '(no text)')}`
}

/** A pull request's comments as threads: each root with its replies nested under it. */
export class Conversation {
  private readonly byId = new Map<number, ApiComment>()
  private readonly replies = new Map<number, ApiComment[]>()
  private readonly shown = new Set<number>()
  /** Roots without `inline`, and inline roots by file, then by line. */
  readonly general: ApiComment[] = []
  readonly inline = new Map<string, Map<string, ApiComment[]>>()

  constructor(
    private readonly pr: string,
    comments: readonly ApiComment[]
  ) {
    const unique: ApiComment[] = []
    for (const comment of comments) {
      if (!obj(comment) || typeof comment.id !== 'number' || this.byId.has(comment.id)) continue
      this.byId.set(comment.id, comment)
      unique.push(comment)
    }
    const inOrder = byTime(
      unique,
      c => c.created_on,
      c => c.id
    )
    for (const comment of inOrder) {
      const parent = comment.parent?.id
      if (parent !== undefined && parent !== comment.id && this.byId.has(parent)) {
        const siblings = this.replies.get(parent)
        if (siblings) siblings.push(comment)
        else this.replies.set(parent, [comment])
      } else if (comment.inline && str(comment.inline.path)) {
        const path = comment.inline.path
        const line = lineKey(comment.inline)
        const lines = this.inline.get(path) ?? new Map<string, ApiComment[]>()
        this.inline.set(path, lines)
        const here = lines.get(line)
        if (here) here.push(comment)
        else lines.set(line, [comment])
      } else {
        this.general.push(comment)
      }
    }
  }

  /** Comments no root reaches (a `parent` cycle in a damaged archive), so that none goes missing. */
  unreached(): ApiComment[] {
    return byTime(
      [...this.byId.values()].filter(comment => !this.shown.has(comment.id)),
      c => c.created_on,
      c => c.id
    )
  }

  /** Depth-first without recursion, so a long reply chain cannot exhaust the stack. */
  thread(out: string[], roots: readonly ApiComment[]) {
    out.push('<ol class="thread">')
    const stack: (ApiComment | null)[] = [...roots].reverse()
    while (stack.length > 0) {
      const comment = stack.pop()
      if (comment === null) {
        out.push('</ol></li>')
        continue
      }
      if (!comment || this.shown.has(comment.id)) continue
      this.shown.add(comment.id)
      const parent = comment.parent?.id
      out.push(commentItem(this.pr, comment, parent !== undefined && !this.byId.has(parent)))
      const children = this.replies.get(comment.id)
      if (children && children.length > 0) {
        out.push('<ol class="replies">')
        stack.push(null)
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i])
      } else {
        out.push('</li>')
      }
    }
    out.push('</ol>')
  }

  /** Inline threads under their file (paths in order), then their line. */
  inlineThreads(out: string[]) {
    const paths = [...this.inline.keys()].sort(compareText)
    for (const path of paths) {
      const lines = this.inline.get(path)!
      out.push(`<div class="file"><h4><code>${esc(path)}</code></h4>`)
      for (const key of [...lines.keys()].sort(compareLines)) {
        out.push(`<div class="line"><p class="line-ref">${lineLabel(key)}</p>`)
        this.thread(out, lines.get(key)!)
        out.push('</div>')
      }
      out.push('</div>')
    }
  }

  anchor(id: unknown): string | undefined {
    return typeof id === 'number' && this.byId.has(id) ? commentAnchor(this.pr, id) : undefined
  }
}

/** `n:<line>` on the new side (`to`), `o:<line>` on the old (`from`), `f:` for the whole file. */
function lineKey(inline: { from?: number | null; to?: number | null }): string {
  if (typeof inline.to === 'number') return `n:${inline.to}`
  if (typeof inline.from === 'number') return `o:${inline.from}`
  return 'f:'
}

function lineLabel(key: string): string {
  const [side, line] = key.split(':')
  if (side === 'f') return 'The whole file'
  return `Line ${esc(line)} <span class="muted">(${side === 'n' ? 'new' : 'old'} side)</span>`
}

function compareLines(a: string, b: string): number {
  const line = (key: string) => (key.startsWith('f') ? -1 : Number(key.slice(2)))
  return line(a) - line(b) || compareText(a, b)
}

/** Code-unit order: the same on every machine and locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

const REVIEW_KINDS: Record<string, string> = {
  approval: 'approved',
  changes_request: 'requested changes',
  changes_requested: 'requested changes',
  request_changes: 'requested changes'
}

function endpoint(side: unknown): string {
  const s = obj(side)
  const branch = str(obj(s?.branch)?.name)
  const hash = str(obj(s?.commit)?.hash)
  const name = branch ? `<code class="branch"><bdi>${esc(branch)}</bdi></code>` : '?'
  return hash ? `${name} <code class="hash">${esc(hash.slice(0, 12))}</code>` : name
}

/** One /activity entry as a line; `null` for an entry of no known shape. */
function activityLine(entry: Record<string, unknown>, conversation: Conversation) {
  for (const [kind, label] of Object.entries(REVIEW_KINDS)) {
    const review = obj(entry[kind])
    if (review) return { date: review.date, html: `${who(review.user)} ${label}` }
  }
  const update = obj(entry.update)
  if (update) {
    const parts = [`${who(update.author)} updated the pull request`]
    if (str(update.state)) parts.push(`state ${esc(update.state)}`)
    if (update.source || update.destination)
      parts.push(`${endpoint(update.source)} → ${endpoint(update.destination)}`)
    if (str(update.reason)) parts.push(`reason: ${esc(update.reason)}`)
    return { date: update.date, html: parts.join(' · ') }
  }
  const comment = obj(entry.comment)
  if (comment) {
    const anchor = conversation.anchor(comment.id)
    const ref = anchor ? `<a href="#${anchor}">#${esc(comment.id)}</a>` : `#${esc(comment.id)}`
    return { date: comment.created_on, html: `${who(comment.user)} commented ${ref}` }
  }
  const kind = Object.keys(entry).find(key => key !== 'pull_request' && obj(entry[key]))
  if (!kind) return null
  const other = obj(entry[kind])!
  return {
    date: other.date ?? other.created_on,
    html: `${who(other.user ?? other.author)} <span class="tag">${esc(kind)}</span>`
  }
}

/** The /activity list (newest first as the API lists it) in time order, oldest first. */
export function activity(
  out: string[],
  entries: readonly Record<string, unknown>[],
  conversation: Conversation
) {
  const lines: { date: unknown; html: string; order: number }[] = []
  entries.forEach((entry, index) => {
    const line = obj(entry) && activityLine(entry, conversation)
    // The API lists newest first: among equal dates, the later index happened earlier.
    if (line) lines.push({ ...line, order: entries.length - index })
  })
  if (lines.length === 0) return out.push('<p class="muted">No activity archived.</p>')
  const inOrder = byTime(
    lines,
    l => l.date,
    l => l.order
  )
  out.push('<ol class="activity">')
  for (const line of inOrder) out.push(`<li>${when(line.date)} · ${line.html}</li>`)
  out.push('</ol>')
}

export function tasks(
  out: string[],
  list: readonly Record<string, unknown>[],
  conversation: Conversation
) {
  const valid = list.filter(task => obj(task))
  if (valid.length === 0) return out.push('<p class="muted">No tasks.</p>')
  const inOrder = byTime(
    valid,
    t => t.created_on,
    t => (typeof t.id === 'number' ? t.id : 0)
  )
  out.push('<ul class="tasks">')
  for (const task of inOrder) {
    const resolved = task.state === 'RESOLVED'
    const anchor = conversation.anchor(obj(task.comment)?.id)
    const on = anchor ? ` · on comment <a href="#${anchor}">#${esc(obj(task.comment)?.id)}</a>` : ''
    const done = resolved ? ` · resolved by ${who(task.resolved_by)} ${when(task.resolved_on)}` : ''
    out.push(
      `<li class="task ${resolved ? 'resolved' : 'open'}">` +
        `<span class="tag">${resolved ? 'Resolved' : 'Open'}</span>` +
        body(obj(task.content)?.raw, '(no text)') +
        `<div class="meta">by ${who(task.creator)} · ${when(task.created_on)}${done}${on}</div></li>`
    )
  }
  out.push('</ul>')
}
