// Git smart HTTP for snippets (`<origin>/snippets/<workspace>/<id>.git`), through the same real
// `git http-backend` as repositories and the same Basic-only git auth, with the snippet scopes:
// reading needs `snippet` (`read:snippet:bitbucket`), pushing `snippet:write` (`write:snippet:bitbucket`);
// a public snippet may be cloned anonymously.
import type * as http from 'node:http'
import { authenticateGit, scopeKind, type GitIdentity, type Refusal } from './auth.js'
import { takeGitFault } from './faults.js'
import { runBackend } from './git-http.js'
import { stamp } from './metadata-state.js'
import { grantsAll } from './scopes.js'
import { findSnippet, type Snippet } from './snippet-model.js'
import type { GitService, State } from './types.js'

const PATH = /^\/snippets\/([^/]+)\/([^/]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/
const SERVICES: Record<string, GitService> = {
  'info/refs': 'info-refs',
  'git-upload-pack': 'upload-pack',
  'git-receive-pack': 'receive-pack'
}

export function parseSnippetGitPath(pathname: string) {
  const match = PATH.exec(pathname)
  return match && { workspace: match[1], id: match[2], service: SERVICES[match[3]] }
}

function authorize(identity: GitIdentity, snippet: Snippet, write: boolean): Refusal | undefined {
  if (identity.kind === 'admin') return undefined
  if (identity.kind === 'access-token' && identity.workspace !== snippet.workspace)
    return { status: 403, message: 'You do not have access to this snippet.' }
  const kind = scopeKind(identity)
  const needed =
    kind === 'api-token'
      ? [write ? 'write:snippet:bitbucket' : 'read:snippet:bitbucket']
      : [write ? 'snippet:write' : 'snippet']
  if (grantsAll(kind, identity.scopes, needed)) return undefined
  return {
    status: 403,
    message: `You do not have ${write ? 'write' : 'read'} access to this snippet.`
  }
}

export function handleSnippetGit(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  target: NonNullable<ReturnType<typeof parseSnippetGitPath>>,
  body: Buffer
): void {
  const method = req.method ?? 'GET'
  const entry = {
    method,
    path: `${url.pathname}${url.search}`,
    service: target.service,
    repository: `snippets/${target.workspace}/${target.id}`,
    authorization: Boolean(req.headers.authorization)
  }
  if (takeGitFault(state, req, res, entry)) return
  const finish = (status: number, responseBytes: number) =>
    state.gitRequests.push({ ...entry, status, responseBytes })
  const refuse = (refusal: Refusal) => {
    const text = `${refusal.message}\n`
    const challenge: Record<string, string> =
      refusal.status === 401 ? { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' } : {}
    res
      .writeHead(refusal.status, { 'Content-Type': 'text/plain; charset=utf-8', ...challenge })
      .end(text)
    finish(refusal.status, Buffer.byteLength(text))
  }
  const snippet = findSnippet(
    state,
    decodeURIComponent(target.workspace),
    decodeURIComponent(target.id)
  )
  const write =
    target.service === 'receive-pack' || url.searchParams.get('service') === 'git-receive-pack'
  const expected = target.service === 'info-refs' ? 'GET' : 'POST'
  let identity: GitIdentity | undefined
  if (req.headers.authorization) {
    const found = authenticateGit(req.headers.authorization, state.registry)
    if ('status' in found) return refuse(found)
    identity = found
  } else if (!snippet || snippet.isPrivate || write) {
    return refuse({ status: 401, message: 'Authentication required' })
  }
  if (!snippet) return refuse({ status: 404, message: 'Snippet not found' })
  const refusal = identity && authorize(identity, snippet, write)
  if (refusal) return refuse(refusal)
  if (method !== expected) return refuse({ status: 405, message: 'Method not allowed' })
  const done = (status: number, bytes: number) => {
    if (target.service === 'receive-pack' && status === 200)
      snippet.updatedOn = stamp(state.metadata)
    finish(status, bytes)
  }
  runBackend(state, req, res, url, body, identity, done)
}
