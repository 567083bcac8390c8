// The REST endpoints for what a repository holds beyond git (REFERENCE.md): each request is matched
// to its operation in the spec, refused with Bitbucket's 403 when the credential lacks a scope the
// operation lists, then handed to its handler. The fixture admin's requests skip the scope check.
import type * as http from 'node:http'
import { scopeKind, type Identity } from './auth.js'
import { downloadRoutes } from './downloads.js'
import { errorBody } from './faults.js'
import type { RestOptions } from './rest.js'
import type { Routes } from './rest-context.js'
import { pullRequestRoutes } from './rest-pull-requests.js'
import type { Reply } from './rest-repository.js'
import { snippetRoutes } from './rest-snippets.js'
import { grantsAll } from './scopes.js'
import { permissionRoutes } from './settings-permissions.js'
import { pipelineRoutes } from './settings-pipelines.js'
import { repositorySettingRoutes } from './settings-repository.js'
import { workspaceRoutes } from './settings-workspace.js'
import { matchOperation, neededScopes } from './spec-operations.js'
import type { State } from './types.js'

export const SCOPES_LACKING = 'Your credentials lack one or more required privilege scopes.'

const ROUTES: Routes = {
  ...pullRequestRoutes,
  ...downloadRoutes,
  ...snippetRoutes,
  ...repositorySettingRoutes,
  ...permissionRoutes,
  ...pipelineRoutes,
  ...workspaceRoutes
}

/** The operations served here, keyed `method template` as the spec spells them. */
export const servedOperations = Object.keys(ROUTES)

export interface MetadataRequest {
  method: string
  url: URL
  body: Buffer
  headers: http.IncomingHttpHeaders
  /** undefined: the fixture admin. */
  identity?: Identity
}

/** Whether a metadata operation answers this method and `/2.0/...` path. */
export function serves(method: string, pathname: string): boolean {
  const matched = matchOperation(method, pathname)
  return Boolean(matched && ROUTES[`${method.toLowerCase()} ${matched.template}`])
}

/** The answer, or undefined when no metadata operation has this method and path. */
export function routeMetadata(
  state: State,
  options: RestOptions,
  request: MetadataRequest
): Reply | Promise<Reply> | undefined {
  const matched = matchOperation(request.method, request.url.pathname)
  const handler = matched && ROUTES[`${request.method.toLowerCase()} ${matched.template}`]
  if (!matched || !handler) return undefined
  const { identity } = request
  if (identity) {
    const kind = scopeKind(identity)
    const needed = neededScopes(matched.operation, kind)
    if (!grantsAll(kind, identity.scopes, needed))
      return [403, errorBody(SCOPES_LACKING, { granted: identity.scopes, required: needed })]
  }
  const ctx = { state, options, ...request, params: matched.params }
  try {
    return Promise.resolve(handler(ctx)).catch(failed)
  } catch (error) {
    return failed(error)
  }
}

function failed(error: unknown): Reply {
  return [
    500,
    errorBody('Something went wrong', String(error instanceof Error ? error.message : error))
  ]
}
