// Minimal Twirp-over-JSON HTTP server: routing, bearer-token check, fault injection, request log.
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { identityFromAuthorization, TokenError, type RunIdentity } from './jwt.js'

export const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService'
export const CACHE_SERVICE = 'github.actions.results.api.v1.CacheService'

/** Short service names used in the request log and in fault injection. */
export type ServiceName = 'artifact' | 'cache'

/** HTTP status of each Twirp error code (https://twitchtv.github.io/twirp/docs/spec_v7.html). */
export const TWIRP_STATUS: Record<string, number> = {
  canceled: 408,
  invalid_argument: 400,
  malformed: 400,
  deadline_exceeded: 408,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  dataloss: 500,
  unknown: 500
}

const CODE_FOR_STATUS: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  408: 'deadline_exceeded',
  409: 'already_exists',
  412: 'failed_precondition',
  429: 'resource_exhausted',
  500: 'internal',
  501: 'unimplemented',
  502: 'unavailable',
  503: 'unavailable',
  504: 'deadline_exceeded'
}

/** A Twirp error: answered as `{"code": code, "msg": msg}` with the code's HTTP status. */
export class TwirpError extends Error {
  readonly status: number
  constructor(
    readonly code: string,
    msg: string
  ) {
    super(msg)
    this.status = TWIRP_STATUS[code] ?? 500
  }
}

/** A JSON message as the generated clients send it (proto field names, snake_case). */
export type Json = Record<string, unknown>
export type TwirpHandler = (body: Json, caller: RunIdentity) => Promise<Json> | Json

/** One answered Twirp call. */
export interface RequestRecord {
  service: ServiceName
  method: string
  status: number
  /** Twirp error code when status is not 2xx. */
  code?: string
  /** Whether the answer came from `failNext`. */
  injected: boolean
  at: Date
}

/** Fault injection: the next `count` matching calls are answered with this error instead. */
export interface FaultSpec {
  service: ServiceName
  /** Method name, e.g. `CreateCacheEntry`; any method of the service when omitted. */
  method?: string
  /** HTTP status to answer with, e.g. 500, 429, 409. */
  status: number
  /** How many calls to fail; default 1. */
  count?: number
  /** Twirp code; derived from the status when omitted. */
  code?: string
  /** Error text; default `injected fault`. */
  msg?: string
  /** Raw body sent instead of the Twirp JSON (e.g. a gateway's HTML page), as text/html. */
  rawBody?: string
  /** Extra response headers, e.g. `{ 'retry-after': '30' }`. */
  headers?: Record<string, string>
}

export interface TwirpServerOptions {
  services: Record<ServiceName, { fullName: string; handlers: Record<string, TwirpHandler> }>
  log: RequestRecord[]
  faults: FaultSpec[]
}

function send(res: http.ServerResponse, status: number, body: Json, headers = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

function takeFault(faults: FaultSpec[], service: ServiceName, method: string) {
  const index = faults.findIndex(
    f => f.service === service && (f.method === undefined || f.method === method)
  )
  if (index < 0) return undefined
  const fault = faults[index]
  const remaining = (fault.count ?? 1) - 1
  if (remaining <= 0) faults.splice(index, 1)
  else faults[index] = { ...fault, count: remaining }
  return fault
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function handle(
  options: TwirpServerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const match = /^\/twirp\/([^/]+)\/([^/]+)$/.exec(url.pathname)
  const entry = Object.entries(options.services).find(([, s]) => s.fullName === match?.[1])
  const body = await readBody(req)
  if (!match || !entry || req.method !== 'POST') {
    send(res, 404, { code: 'bad_route', msg: `no handler for ${req.method} ${url.pathname}` })
    return
  }
  const service = entry[0] as ServiceName
  const method = match[2]
  const record = (status: number, code: string | undefined, injected: boolean) =>
    options.log.push({ service, method, status, code, injected, at: new Date() })

  const fault = takeFault(options.faults, service, method)
  if (fault) {
    const code = fault.code ?? CODE_FOR_STATUS[fault.status] ?? 'unknown'
    record(fault.status, code, true)
    if (fault.rawBody !== undefined) {
      res.writeHead(fault.status, { 'content-type': 'text/html', ...fault.headers })
      res.end(fault.rawBody)
    } else {
      send(res, fault.status, { code, msg: fault.msg ?? 'injected fault' }, fault.headers)
    }
    return
  }

  let status = 200
  let code: string | undefined
  try {
    const handler = entry[1].handlers[method]
    if (!handler) throw new TwirpError('bad_route', `unknown method ${method}`)
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim()
    if (contentType !== 'application/json') {
      throw new TwirpError('bad_route', `unsupported Content-Type: ${contentType || 'none'}`)
    }
    let caller: RunIdentity
    try {
      caller = identityFromAuthorization(req.headers.authorization)
    } catch (error) {
      if (error instanceof TokenError) throw new TwirpError('unauthenticated', error.message)
      throw error
    }
    let input: unknown
    try {
      input = body ? JSON.parse(body) : {}
    } catch {
      throw new TwirpError('malformed', 'the request body is not valid JSON')
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new TwirpError('malformed', 'the request body is not a JSON object')
    }
    const output = await handler(input as Json, caller)
    send(res, status, output)
  } catch (error) {
    const twirp =
      error instanceof TwirpError ? error : new TwirpError('internal', (error as Error).message)
    status = twirp.status
    code = twirp.code
    send(res, status, { code: twirp.code, msg: twirp.message })
  }
  record(status, code, false)
}

/** Starts the Twirp server on 127.0.0.1 with an ephemeral port. */
export async function startTwirpServer(
  options: TwirpServerOptions
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    handle(options, req, res).catch(error => {
      if (!res.headersSent) send(res, 500, { code: 'internal', msg: String(error) })
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** Status and parsed JSON body (undefined when not JSON) of a raw Twirp call. */
export interface TwirpResponse {
  status: number
  body: Json | undefined
}

/**
 * Calls one Twirp method directly (as the generated clients do, without their retries).
 * `token` becomes the bearer token; omit it to test the 401 path.
 */
export async function callTwirp(
  baseUrl: string,
  service: ServiceName,
  method: string,
  body: Json,
  token?: string
): Promise<TwirpResponse> {
  const fullName = service === 'artifact' ? ARTIFACT_SERVICE : CACHE_SERVICE
  const response = await fetch(new URL(`/twirp/${fullName}/${method}`, baseUrl), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {})
    },
    body: JSON.stringify(body)
  })
  const text = await response.text()
  let parsed: Json | undefined
  try {
    parsed = JSON.parse(text) as Json
  } catch {
    parsed = undefined
  }
  return { status: response.status, body: parsed }
}
