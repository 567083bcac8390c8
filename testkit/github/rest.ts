// The REST API of the local GitHub under /api/v3, as GitHub Enterprise Server serves it: accounts,
// repository create/get/update with GitHub's refusals for each token kind, the Actions artifacts
// API, releases, JSON 404 for the rest.
import type * as http from 'node:http'
import {
  authenticateRest,
  isIntegration,
  mayCreateIn,
  permissionsOf,
  REQUIRES_AUTH
} from './auth.js'
import {
  accountJson,
  answer,
  NOT_ACCESSIBLE,
  notFound,
  repoJson,
  type Answer
} from './rest-json.js'
import { routeArtifacts } from './rest-artifacts.js'
import { routeListing } from './rest-listing.js'
import { routeReleases } from './rest-releases.js'
import { createRepoFromRequest, updateRepo } from './rest-repository.js'
import { parseJsonObject, readBody, sendJson } from './server.js'
import { errorBody, findAccount, findRepo, type State, type Token } from './types.js'

function route(
  state: State,
  method: string,
  parts: string[],
  token: Token | undefined,
  body: Buffer,
  url: URL,
  accept: string | undefined
): Answer {
  const [first, second, third] = parts
  if (first === 'repos' && parts.length > 3) {
    const artifacts = routeArtifacts(state, method, parts, token, url)
    if (artifacts) return artifacts
    const releases = routeReleases(state, method, parts, token, parseJsonObject(body), url, accept)
    if (releases) return releases
  }
  if (method === 'GET' && first === 'user' && parts.length === 1) {
    if (!token) return answer(401, REQUIRES_AUTH)
    if (isIntegration(token)) return answer(403, NOT_ACCESSIBLE)
    return { status: 200, body: accountJson(state, findAccount(state, token.login)!) }
  }
  if (method === 'GET' && (first === 'users' || first === 'orgs') && parts.length === 2) {
    const account = findAccount(state, second)
    if (!account || (first === 'orgs' && account.type !== 'Organization')) return notFound()
    return { status: 200, body: accountJson(state, account) }
  }
  if (method === 'POST' && first === 'user' && second === 'repos' && parts.length === 2) {
    if (!token) return answer(401, REQUIRES_AUTH)
    if (isIntegration(token)) return answer(403, NOT_ACCESSIBLE)
    return createRepoFromRequest(state, findAccount(state, token.login)!, parseJsonObject(body))
  }
  if (method === 'POST' && first === 'orgs' && third === 'repos' && parts.length === 3) {
    const org = findAccount(state, second)
    if (!org || org.type !== 'Organization') return notFound()
    if (!token) return answer(401, REQUIRES_AUTH)
    if (!mayCreateIn(token, org.login))
      return isIntegration(token)
        ? answer(403, NOT_ACCESSIBLE)
        : answer(403, 'You need admin access to the organization before adding a repository to it.')
    return createRepoFromRequest(state, org, parseJsonObject(body))
  }
  if (first === 'repos' && parts.length === 3) {
    const repo = findRepo(state, second, third)
    const permissions = repo && permissionsOf(token, repo)
    if (!repo || !permissions?.pull) return notFound()
    if (method === 'GET')
      return { status: 200, body: repoJson(state, repo, token ? permissions : undefined) }
    if (method === 'PATCH') {
      if (!token) return answer(401, REQUIRES_AUTH)
      if (!permissions.admin)
        return isIntegration(token)
          ? answer(403, NOT_ACCESSIBLE)
          : answer(403, 'Must have admin rights to Repository.')
      const refused = updateRepo(state, repo, parseJsonObject(body))
      return refused ?? { status: 200, body: repoJson(state, repo, permissions) }
    }
  }
  return notFound()
}

function headersFor(token: Token | undefined): Record<string, string> {
  return {
    'X-GitHub-Media-Type': 'github.v3; format=json',
    'X-RateLimit-Limit': '5000',
    'X-RateLimit-Remaining': '4999',
    'X-RateLimit-Resource': 'core',
    ...(token?.kind === 'pat' ? { 'X-OAuth-Scopes': 'repo, workflow' } : {})
  }
}

/** Answers one REST request (the path already stripped of `/api/v3`) and logs it. */
export async function handleRest(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  apiPath: string
): Promise<void> {
  const method = req.method ?? 'GET'
  const log = (status: number): void => {
    state.requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      status,
      authorization: Boolean(req.headers.authorization)
    })
  }
  let body: Buffer
  try {
    body = await readBody(req)
  } catch {
    return log(sendJson(res, 413, errorBody(413, 'Payload too large')))
  }
  const caller = authenticateRest(state, req.headers.authorization)
  if ('status' in caller) return log(sendJson(res, 401, errorBody(401, caller.message)))
  let parts: string[]
  try {
    parts = apiPath.split('/').filter(Boolean).map(decodeURIComponent)
  } catch {
    return log(sendJson(res, 404, notFound().body))
  }
  const result =
    routeListing(state, method, parts, url.searchParams, caller.token) ??
    route(state, method, parts, caller.token, body, url, req.headers.accept)
  const headers = { ...headersFor(caller.token), ...result.headers }
  if (result.body === undefined) {
    res.writeHead(result.status, { ...headers, 'Content-Length': 0 }).end()
    return log(result.status)
  }
  log(sendJson(res, result.status, result.body, headers))
}
