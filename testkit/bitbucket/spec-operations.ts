// The operations of Atlassian's OpenAPI spec the local Bitbucket serves beyond the repository itself,
// read from the subset scripts/extract-openapi-subset.mjs copies: which one a request names, the
// scopes it needs (`security` for OAuth 2.0 and access tokens, `x-atlassian-oauth2-scopes` for API
// tokens) and the request body it takes, so the stand-in enforces what the spec says and no more.
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import * as fs from 'node:fs'
import type { ScopeKind } from './scopes.js'

interface Operation {
  security?: Record<string, string[]>[]
  'x-atlassian-oauth2-scopes'?: { scopes: string[] }[]
  requestBody?: { $ref?: string; content?: Record<string, { schema?: { $ref?: string } }> }
  responses: Record<string, unknown>
}

interface Subset {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>; requestBodies?: Record<string, unknown> }
}

const file = new URL('../fixtures/bitbucket/openapi-subset.json', import.meta.url)
const subset = JSON.parse(fs.readFileSync(file, 'utf8')) as Subset

export interface Matched {
  /** The spec's path, e.g. `/repositories/{workspace}/{repo_slug}/hooks/{uid}`. */
  template: string
  params: Record<string, string>
  operation: Operation
}

const templates = Object.keys(subset.paths).map(template => ({
  template,
  segments: template.split('/').slice(1),
  literals: template.split('/').filter(part => part && !part.startsWith('{')).length
}))

/** The spec operation a method and `/2.0/...` path name; a literal segment beats a parameter. */
export function matchOperation(method: string, pathname: string): Matched | undefined {
  const parts = pathname
    .replace(/^\/2\.0/, '')
    .replace(/\/$/, '')
    .split('/')
    .slice(1)
  let best: (Matched & { literals: number }) | undefined
  for (const { template, segments, literals } of templates) {
    const operation = subset.paths[template][method.toLowerCase()]
    if (!operation || segments.length !== parts.length) continue
    const params: Record<string, string> = {}
    const fits = segments.every((segment, i) => {
      if (!segment.startsWith('{')) return segment === parts[i]
      try {
        params[segment.slice(1, -1)] = decodeURIComponent(parts[i])
      } catch {
        return false
      }
      return parts[i] !== ''
    })
    if (fits && (!best || literals > best.literals))
      best = { template, params, operation, literals }
  }
  return best && { template: best.template, params: best.params, operation: best.operation }
}

/** The scopes an operation needs from a credential of this kind: all of them, none implied for API tokens. */
export function neededScopes(operation: Operation, kind: ScopeKind): string[] {
  if (kind === 'api-token') return operation['x-atlassian-oauth2-scopes']?.[0]?.scopes ?? []
  return operation.security?.find(entry => 'oauth2' in entry)?.oauth2 ?? []
}

export function specOperation(method: string, template: string): Operation | undefined {
  return subset.paths[template]?.[method.toLowerCase()]
}

/** Drops every `required` list: what a response must carry, a request may leave out. */
export function optional(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(optional)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => !(key === 'required' && Array.isArray(v)))
      .map(([key, v]) => [key, optional(v)])
  )
}

let ajv: Ajv | undefined
const compiled = new Map<string, ValidateFunction | undefined>()

/** The JSON schema of an operation's request body, compiled once; undefined when the spec names none. */
function requestValidator(method: string, template: string): ValidateFunction | undefined {
  const key = `${method} ${template}`
  if (compiled.has(key)) return compiled.get(key)
  let body = specOperation(method, template)?.requestBody
  const shared = body?.$ref?.replace('#/components/requestBodies/', '')
  if (shared) body = subset.components.requestBodies?.[shared] as Operation['requestBody']
  const ref = body?.content?.['application/json']?.schema?.$ref
  if (!ajv) {
    ajv = new Ajv({ strict: false, allErrors: true })
    ;(addFormatsModule as unknown as (ajv: Ajv) => void)(ajv)
    ajv.addSchema({ $id: 'bb-body', components: optional(subset.components) })
  }
  const validate = ref ? ajv.getSchema(`bb-body${ref}`) : undefined
  compiled.set(key, validate)
  return validate
}

/** Why a request body does not fit its operation's schema, or undefined when it fits (or none is named). */
export function requestBodyProblem(
  method: string,
  template: string,
  body: unknown
): string | undefined {
  const validate = requestValidator(method, template)
  if (!validate || validate(body)) return undefined
  return ajv!.errorsText(validate.errors, { dataVar: 'body' })
}
