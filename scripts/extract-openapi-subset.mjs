// Copies the schemas the stand-in is checked against (and everything they reference), and the
// operations it serves (scopes, request body, response codes), out of Atlassian's OpenAPI spec in
// ../shared, so tests run on a clone that has only this repository.
// Usage: node scripts/extract-openapi-subset.mjs [path/to/swagger.v3.json]
import * as fs from 'node:fs'

const source = process.argv[2] ?? new URL('../../shared/bitbucket/swagger.v3.json', import.meta.url)
const target = new URL('../testkit/fixtures/bitbucket/openapi-subset.json', import.meta.url)
const spec = JSON.parse(fs.readFileSync(source, 'utf8'))
const roots = ['paginated_repositories', 'repository', 'error', 'paginated_workspaces']
const operations = {
  '/repositories/{workspace}': ['get'],
  '/repositories/{workspace}/{repo_slug}': ['get', 'post', 'put']
}
// What an operation requires and answers; its narrative and parameters stay in the spec.
const KEPT = ['summary', 'security', 'x-atlassian-oauth2-scopes', 'requestBody', 'responses']
const paths = {}
for (const [path, methods] of Object.entries(operations)) {
  paths[path] = {}
  for (const method of methods) {
    const operation = spec.paths[path][method]
    paths[path][method] = Object.fromEntries(
      KEPT.filter(key => key in operation).map(key => [key, operation[key]])
    )
  }
}
const schemas = {}
const pending = [...roots]
for (const match of JSON.stringify(paths).matchAll(/"#\/components\/schemas\/([^"]+)"/g))
  pending.push(match[1])
while (pending.length > 0) {
  const name = pending.pop()
  if (schemas[name]) continue
  schemas[name] = spec.components.schemas[name]
  const text = JSON.stringify(schemas[name])
  for (const match of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) pending.push(match[1])
}
const sorted = Object.fromEntries(
  Object.keys(schemas)
    .sort()
    .map(name => [name, schemas[name]])
)
const subset = {
  source:
    'Atlassian Bitbucket Cloud OpenAPI (swagger.v3.json), components.schemas and paths subset',
  roots,
  paths,
  components: { schemas: sorted }
}
fs.writeFileSync(target, `${JSON.stringify(subset, null, 2)}\n`)
console.log(
  `${Object.keys(sorted).length} schemas and ${Object.values(paths).flatMap(Object.keys).length} operations written to ${target.pathname}`
)
