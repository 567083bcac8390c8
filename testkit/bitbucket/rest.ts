// The REST side of the local Bitbucket (REFERENCE.md): auth rules and privilege scopes, paging,
// `fields`, the project `q` filter, one repository's GET/POST/PUT, removed endpoints, error bodies,
// rate-limit faults, the rolling-hour rate limit and the REST request log; what a repository holds
// beyond git is routed to rest-metadata.ts.
import { randomUUID } from 'node:crypto'
import type * as http from 'node:http'
import { authenticate, scopeKind, type Identity } from './auth.js'
import { errorBody, sendFault } from './faults.js'
import { applyFields } from './fields.js'
import { createRateLimiter, RATE_LIMITED } from './rate-limit.js'
import { routeMetadata, SCOPES_LACKING } from './rest-metadata.js'
import { repositoryObject, singleRepository, type Reply } from './rest-repository.js'
import { grants, requiredScope, REST_OPERATIONS } from './scopes.js'
import type { FaultKind, State } from './types.js'

const REMOVED = [
  /^\/2\.0\/repositories\/?$/,
  /^\/2\.0\/workspaces\/?$/,
  /^\/2\.0\/user\/permissions\/workspaces\/?$/
]

export interface RestOptions {
  nextDropsFields?: boolean
  /** Requests per rolling hour and credential; unset: counted (for the headers), never refused. */
  rateLimitPerHour?: number
}

export function createRest(state: State, options: RestOptions) {
  const faults: { kind: FaultKind; retryAfterSeconds?: number }[] = []
  const { registry, workspaces } = state
  const rateLimiter = createRateLimiter(options.rateLimitPerHour)

  /** `project.key = "A"` terms joined by OR/AND; anything else is a malformed query. */
  function projectFilter(q: string): Set<string> | undefined {
    const terms = q.split(/\s+(?:OR|AND)\s+/)
    const keys = new Set<string>()
    for (const term of terms) {
      const match = /^\(?\s*project\.key\s*=\s*"([^"]*)"\s*\)?$/.exec(term.trim())
      if (!match) return undefined
      keys.add(match[1])
    }
    return keys
  }

  function listRepositories(url: URL, workspace: string, identity: Identity): [number, string] {
    const ws = workspaces.get(workspace)
    if (!ws) return [404, errorBody(`No workspace with identifier '${workspace}'.`)]
    if (identity.kind === 'access-token' && identity.workspace !== workspace) {
      return [403, errorBody('This access token does not have access to this workspace.')]
    }
    let repos = ws.repos
    const q = url.searchParams.get('q')
    if (q) {
      const keys = projectFilter(q)
      if (!keys) return [400, errorBody('Invalid query')]
      repos = repos.filter(repo => keys.has(repo.projectKey))
    }
    const pagelen = Math.min(100, Math.max(1, Number(url.searchParams.get('pagelen') ?? 10) || 10))
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const values = repos
      .slice((page - 1) * pagelen, page * pagelen)
      .map(repo => repositoryObject(state, repo, identity))
    const body: Record<string, unknown> = { pagelen, size: repos.length, page, values }
    if (page * pagelen < repos.length) {
      const next = new URL(url.href)
      next.searchParams.set('page', String(page + 1))
      if (options.nextDropsFields) next.searchParams.delete('fields')
      body.next = next.href
    }
    const fields = url.searchParams.get('fields')
    return [200, JSON.stringify(fields ? applyFields(body, fields) : body)]
  }

  function issueOAuthToken(req: http.IncomingMessage, body: string): [number, string] {
    const consumer = registry.consumers.find(
      c =>
        req.headers.authorization ===
        `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`
    )
    if (!consumer || !/grant_type=client_credentials/.test(body)) {
      return [
        400,
        JSON.stringify({
          error: 'invalid_client',
          error_description: 'Invalid OAuth client credentials'
        })
      ]
    }
    const token = `oauth-${randomUUID()}`
    const lifetime = consumer.tokenLifetimeSeconds ?? 3600
    const scopes = consumer.scopes ?? ['repository']
    registry.oauthTokens.set(token, { expires: Date.now() + lifetime * 1000, scopes })
    const answer = {
      access_token: token,
      token_type: 'bearer',
      expires_in: lifetime,
      scopes: scopes.join(' '),
      refresh_token: randomUUID()
    }
    return [200, JSON.stringify(answer)]
  }

  /** The 403 Bitbucket's gateway answers when the credential lacks the operation's scope. */
  function lacksScope(identity: Identity, operation: string): Reply | undefined {
    const access = REST_OPERATIONS[operation]
    const kind = scopeKind(identity)
    // Other endpoints: only API tokens are checked, for the read scope, as the stand-in always did.
    if (!access && kind === 'oauth') return undefined
    if (grants(kind, identity.scopes, access ?? 'read')) return undefined
    const required = [requiredScope(kind, access ?? 'read')]
    return [403, errorBody(SCOPES_LACKING, { granted: identity.scopes, required })]
  }

  function route(req: http.IncomingMessage, url: URL, raw: Buffer): Reply | Promise<Reply> {
    const body = raw.toString('utf8')
    if (req.method === 'POST' && url.pathname === '/site/oauth2/access_token')
      return issueOAuthToken(req, body)
    if (REMOVED.some(pattern => pattern.test(url.pathname))) {
      return [410, errorBody('This API is no longer supported. See CHANGE-2770.')]
    }
    const auth = authenticate(req.headers.authorization, registry)
    if ('status' in auth)
      return [auth.status, auth.body, { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' }]
    const identity = auth
    const method = req.method ?? 'GET'
    const limit = rateLimiter.take(identity, req.headers.authorization ?? '')
    if (limit.refused)
      return [429, RATE_LIMITED, { 'Content-Type': 'text/plain', ...limit.headers }]
    const metadata = routeMetadata(state, options, {
      method,
      url,
      body: raw,
      headers: req.headers,
      identity
    })
    if (metadata)
      return Promise.resolve(metadata).then(([status, text, headers]) => [
        status,
        text,
        { ...limit.headers, ...headers }
      ])
    const answer = answerRepositories(req, url, body, identity, method)
    return [answer[0], answer[1], { ...limit.headers, ...answer[2] }]
  }

  function answerRepositories(
    req: http.IncomingMessage,
    url: URL,
    body: string,
    identity: Identity,
    method: string
  ): Reply {
    const listing = /^\/2\.0\/repositories\/([^/]+)\/?$/.exec(url.pathname)
    const single = /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname)
    const path = listing
      ? '/repositories/{workspace}'
      : single
        ? '/repositories/{workspace}/{repo_slug}'
        : url.pathname.replace(/^\/2\.0/, '')
    const refused = lacksScope(identity, `${method.toLowerCase()} ${path}`)
    if (refused) return refused
    if (method === 'GET' && listing)
      return listRepositories(url, decodeURIComponent(listing[1]), identity)
    if (single && ['GET', 'POST', 'PUT'].includes(method)) {
      const [workspace, slug] = [decodeURIComponent(single[1]), decodeURIComponent(single[2])]
      return singleRepository(state, method, url, workspace, slug, body, identity)
    }
    if (req.method === 'GET' && url.pathname === '/2.0/user/workspaces') {
      const values = [...workspaces.keys()]
        .filter(slug => identity.kind !== 'access-token' || identity.workspace === slug)
        .map(slug => ({
          type: 'workspace_access',
          workspace: { type: 'workspace', slug, uuid: workspaces.get(slug)!.uuid }
        }))
      return [200, JSON.stringify({ pagelen: 100, size: values.length, page: 1, values })]
    }
    return [404, errorBody(`Resource not found: ${url.pathname}`)]
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer) {
    const log = (status: number) =>
      state.requests.push({
        method: req.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        status,
        authorization: Boolean(req.headers.authorization)
      })
    const fault = faults.shift()
    if (fault) return log(sendFault(req, res, fault.kind, fault.retryAfterSeconds).status)
    void Promise.resolve(route(req, url, body)).then(([status, text, headers]) => {
      log(status)
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(text)
    })
  }

  return {
    handle,
    rateLimiter,
    injectFaults(f: { kind: FaultKind; count: number; retryAfterSeconds?: number }) {
      for (let i = 0; i < f.count; i++)
        faults.push({ kind: f.kind, retryAfterSeconds: f.retryAfterSeconds })
    }
  }
}
