// Atlassian's OpenAPI schemas that the local Bitbucket's answers are checked against: the subset
// scripts/extract-openapi-subset.mjs copies from ../shared/bitbucket/swagger.v3.json, so a clone of
// this repository alone can run the checks.
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import * as fs from 'node:fs'

const file = new URL('../fixtures/bitbucket/openapi-subset.json', import.meta.url)
export const openapiSubset = JSON.parse(fs.readFileSync(file, 'utf8')) as {
  paths: Record<string, Record<string, OperationSpec>>
  components: { schemas: Record<string, unknown>; requestBodies: Record<string, unknown> }
}

interface OperationSpec {
  security?: Record<string, string[]>[]
  'x-atlassian-oauth2-scopes'?: { scopes: string[] }[]
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>
}

type Schema = {
  $ref?: string
  allOf?: Schema[]
  properties?: Record<string, unknown>
  required?: string[]
  additionalProperties?: unknown
}

/**
 * The spec composes some schemas of parts that each close themselves (`additionalProperties: false`):
 * `pullrequest_comment_task` is `task` plus `links` plus `comment`, and taken literally no object fits
 * both. OpenAPI means inheritance there, so such a composition is checked as one closed object
 * holding the properties of all its parts; every other schema is checked as written.
 */
function closedUnion(schemas: Record<string, Schema>, schema: Schema): Schema {
  if (!schema.allOf) return schema
  const parts = schema.allOf.map(part =>
    closedUnion(schemas, part.$ref ? schemas[part.$ref.split('/').pop()!] : part)
  )
  if (!parts.some(part => part.additionalProperties === false)) return schema
  return {
    properties: Object.assign({}, ...parts.map(part => part.properties ?? {})),
    required: [...new Set(parts.flatMap(part => part.required ?? []))],
    additionalProperties: !parts.every(part => part.additionalProperties === false)
  }
}

const checked = structuredClone(openapiSubset.components) as { schemas: Record<string, Schema> }
for (const [name, schema] of Object.entries(checked.schemas))
  checked.schemas[name] = closedUnion(
    openapiSubset.components.schemas as Record<string, Schema>,
    schema
  )

const ajv = new Ajv({ strict: false, allErrors: true })
;(addFormatsModule as unknown as (ajv: Ajv) => void)(ajv)
ajv.addSchema({ $id: 'bb', components: checked })

/** A validator for one of the spec's schemas, e.g. `repository` or `paginated_repositories`. */
export function specSchema(name: string): ValidateFunction {
  const validate = ajv.getSchema(`bb#/components/schemas/${name}`)
  if (!validate) throw new Error(`the OpenAPI subset has no schema ${name}`)
  return validate
}

/**
 * Real responses carry more links than the spec allows (an ssh href is no URI) and `mainbranch: null`
 * for empty repositories, which the spec leaves out (shared/bitbucket/README.md): compare the rest.
 */
export function withoutLinks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLinks)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => key !== 'links' && !(key === 'mainbranch' && v === null))
      .map(([key, v]) => [key, withoutLinks(v)])
  )
}

/**
 * The validator of an operation's answer with this status, from its `responses` in the spec, or
 * undefined when the spec names no schema for it (Downloads and activity lists, redirects).
 */
export function responseSchema(
  method: string,
  template: string,
  status: number
): ValidateFunction | undefined {
  const operation = openapiSubset.paths[template]?.[method.toLowerCase()]
  if (!operation) throw new Error(`the OpenAPI subset has no operation ${method} ${template}`)
  const ref = operation.responses[String(status)]?.content?.['application/json']?.schema?.$ref
  return ref ? specSchema(ref.split('/').pop()!) : undefined
}

/**
 * Real answers carry `null` where the spec has an object, a number or an enum (a pull request's
 * `merge_commit` and `closed_by` while open, `inline.from` of a comment on a new line, a participant's
 * `state`); the spec leaves such properties out. Compare the rest.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([key, v]) => [key, withoutNulls(v)])
  )
}
