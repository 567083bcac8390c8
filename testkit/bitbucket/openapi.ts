// Atlassian's OpenAPI schemas that the local Bitbucket's answers are checked against: the subset
// scripts/extract-openapi-subset.mjs copies from ../shared/bitbucket/swagger.v3.json, so a clone of
// this repository alone can run the checks.
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import * as fs from 'node:fs'

const file = new URL('../fixtures/bitbucket/openapi-subset.json', import.meta.url)
export const openapiSubset = JSON.parse(fs.readFileSync(file, 'utf8')) as {
  components: { schemas: Record<string, unknown> }
}

const ajv = new Ajv({ strict: false, allErrors: true })
;(addFormatsModule as unknown as (ajv: Ajv) => void)(ajv)
ajv.addSchema({ $id: 'bb', components: openapiSubset.components })

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
