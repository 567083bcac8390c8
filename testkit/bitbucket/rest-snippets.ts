// Snippets over REST (swagger.v3.json, /snippets/{workspace}...): the workspace's snippets (filtered by
// `role` only), one snippet with its files and clone links, its comments, and creation as the spec's
// narrative describes it: `multipart/form-data` (`file` fields, `title`, `is_private`),
// `multipart/related` (the JSON document first, then the files) or a bare JSON document.
import { errorBody } from './faults.js'
import { accountOf } from './metadata-state.js'
import { multipartKind, parseMultipart } from './multipart.js'
import { paginate } from './paging.js'
import {
  accountJson,
  isReply,
  json,
  jsonBody,
  link,
  notFound,
  rendered,
  workspaceAccount,
  workspaceOf,
  type Ctx,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import {
  createSnippet,
  findSnippet,
  snippetFiles,
  snippetsOf,
  type Snippet
} from './snippet-model.js'
import type { State } from './types.js'

const ROLES = ['owner', 'contributor', 'member']

export async function snippetJson(state: State, snippet: Snippet, cloneUser: string) {
  const { workspace, id } = snippet
  const api = `${state.origin}/2.0/snippets/${workspace}/${id}`
  const html = `${state.origin}/snippets/${workspace}/${id}`
  const { commit, names } = await snippetFiles(state, snippet)
  const files = Object.fromEntries(
    names.map(name => [
      name,
      {
        links: {
          self: link(`${api}/files/${commit.slice(0, 12)}/${encodeURIComponent(name)}`),
          html: link(`${html}#file-${encodeURIComponent(name)}`)
        }
      }
    ])
  )
  return {
    type: 'snippet',
    id,
    title: snippet.title,
    scm: 'git',
    created_on: snippet.createdOn,
    updated_on: snippet.updatedOn,
    is_private: snippet.isPrivate,
    owner: workspaceAccount(state, workspace),
    creator: accountJson(state, snippet.creator),
    files,
    links: {
      self: link(api),
      html: link(html),
      comments: link(`${api}/comments`),
      watchers: link(`${api}/watchers`),
      commits: link(`${api}/commits`),
      clone: [
        {
          name: 'https',
          href: `${state.origin.replace('://', `://${cloneUser}`)}/snippets/${workspace}/${id}.git`
        },
        { name: 'ssh', href: `git@127.0.0.1:snippets/${workspace}/${id}.git` }
      ]
    }
  }
}

/** As a repository's https clone link embeds the caller's user name, so does a snippet's. */
const cloneUser = (ctx: Ctx) =>
  ctx.identity?.kind === 'api-token' ? `${ctx.identity.username}@` : ''

async function list(ctx: Ctx): Promise<Reply> {
  const workspace = workspaceOf(ctx)
  if (isReply(workspace)) return workspace
  const role = ctx.url.searchParams.get('role')
  if (role !== null && !ROLES.includes(role)) return [400, errorBody(`Invalid role: ${role}`)]
  const me = accountOf(ctx.state.metadata, workspace, ctx.identity)
  // Creators stand for owners and contributors; every snippet of the workspace is a member's.
  const snippets = snippetsOf(ctx.state, workspace).filter(
    snippet => role === null || role === 'member' || snippet.creator.uuid === me.uuid
  )
  const values = await Promise.all(snippets.map(s => snippetJson(ctx.state, s, cloneUser(ctx))))
  return paginate(ctx, values)
}

function snippetOf(ctx: Ctx): Snippet | Reply {
  const workspace = workspaceOf(ctx)
  if (isReply(workspace)) return workspace
  return (
    findSnippet(ctx.state, workspace, ctx.params.encoded_id) ??
    notFound(`No snippet ${ctx.params.encoded_id} in ${workspace}`)
  )
}

async function single(ctx: Ctx): Promise<Reply> {
  const snippet = snippetOf(ctx)
  return isReply(snippet)
    ? snippet
    : json(200, await snippetJson(ctx.state, snippet, cloneUser(ctx)))
}

function comments(ctx: Ctx): Reply {
  const snippet = snippetOf(ctx)
  if (isReply(snippet)) return snippet
  const api = `${ctx.state.origin}/2.0/snippets/${snippet.workspace}/${snippet.id}`
  const values = snippet.comments.map(comment => ({
    type: 'snippet_comment',
    id: comment.id,
    created_on: comment.createdOn,
    updated_on: comment.updatedOn,
    content: rendered(comment.raw),
    user: accountJson(ctx.state, comment.user),
    snippet: { type: 'snippet', id: snippet.id, title: snippet.title, links: { self: link(api) } },
    links: {
      self: link(`${api}/comments/${comment.id}`),
      html: link(
        `${ctx.state.origin}/snippets/${snippet.workspace}/${snippet.id}#comment-${comment.id}`
      )
    }
  }))
  return paginate(ctx, values)
}

interface SnippetDocument {
  title?: unknown
  is_private?: unknown
}

/** Title, visibility and files from whichever body form the client chose. */
function readCreation(ctx: Ctx): { doc: SnippetDocument; files: Record<string, Buffer> } | Reply {
  const type = ctx.headers['content-type']
  const kind = multipartKind(type)
  if (!kind) {
    const doc = jsonBody(ctx)
    return isReply(doc) ? doc : { doc, files: {} }
  }
  const parts = parseMultipart(type, ctx.body)
  if (!parts) return [400, errorBody('Bad request', 'The multipart body could not be read.')]
  const files: Record<string, Buffer> = {}
  let doc: SnippetDocument
  const fileParts = kind === 'related' ? parts.slice(1) : parts.filter(part => part.name === 'file')
  if (kind === 'related') {
    try {
      doc = JSON.parse(parts[0]?.body.toString('utf8') ?? '{}') as SnippetDocument
    } catch {
      return [400, errorBody('Bad request', 'The first part is not a JSON document.')]
    }
  } else {
    const field = (name: string) =>
      parts
        .find(part => part.name === name && !part.filename)
        ?.body.toString('utf8')
        .trim()
    const isPrivate = field('is_private')
    doc = {
      title: field('title'),
      is_private: isPrivate === undefined ? undefined : isPrivate === 'true'
    }
  }
  for (const part of fileParts) if (part.filename) files[part.filename] = part.body
  return { doc, files }
}

async function create(ctx: Ctx): Promise<Reply> {
  const workspace = workspaceOf(ctx)
  if (isReply(workspace)) return workspace
  const read = readCreation(ctx)
  if (isReply(read)) return read
  const { doc, files } = read
  if (
    (doc.title !== undefined && typeof doc.title !== 'string') ||
    (doc.is_private !== undefined && typeof doc.is_private !== 'boolean')
  )
    return [400, errorBody('Bad request', 'title is a string and is_private a boolean.')]
  const snippet = await createSnippet(ctx.state, workspace, {
    title: (doc.title as string | undefined) ?? '',
    isPrivate: doc.is_private as boolean | undefined,
    files,
    creator: accountOf(ctx.state.metadata, workspace, ctx.identity)
  })
  const body = await snippetJson(ctx.state, snippet, cloneUser(ctx))
  return json(201, body, { Location: body.links.self.href })
}

export const snippetRoutes: Routes = {
  'get /snippets/{workspace}': list,
  'post /snippets/{workspace}': create,
  'get /snippets/{workspace}/{encoded_id}': single,
  'get /snippets/{workspace}/{encoded_id}/comments': comments
}
