// Copies the schemas the stand-in is checked against (and everything they reference), and the
// operations it serves (scopes, request body, response codes), out of Atlassian's OpenAPI spec in
// ../shared, so tests run on a clone that has only this repository.
// Usage: node scripts/extract-openapi-subset.mjs [path/to/swagger.v3.json]
import * as fs from 'node:fs'

const source = process.argv[2] ?? new URL('../../shared/bitbucket/swagger.v3.json', import.meta.url)
const target = new URL('../testkit/fixtures/bitbucket/openapi-subset.json', import.meta.url)
const spec = JSON.parse(fs.readFileSync(source, 'utf8'))
const roots = ['paginated_repositories', 'repository', 'error', 'paginated_workspaces']
const R = '/repositories/{workspace}/{repo_slug}'
const PR = `${R}/pullrequests/{pull_request_id}`
const P = '/workspaces/{workspace}/projects/{project_key}'
const operations = {
  '/repositories/{workspace}': ['get'],
  [R]: ['get', 'post', 'put'],
  // What a repository holds beyond git (REFERENCE.md): pull requests, Downloads, snippets, settings.
  [`${R}/pullrequests`]: ['get', 'post'],
  [`${R}/pullrequests/activity`]: ['get'],
  [PR]: ['get'],
  [`${PR}/activity`]: ['get'],
  [`${PR}/comments`]: ['get'],
  [`${PR}/comments/{comment_id}`]: ['get'],
  [`${PR}/tasks`]: ['get'],
  [`${PR}/statuses`]: ['get'],
  [`${PR}/diff`]: ['get'],
  [`${PR}/patch`]: ['get'],
  [`${R}/downloads`]: ['get', 'post'],
  [`${R}/downloads/{filename}`]: ['get', 'delete'],
  '/snippets/{workspace}': ['get', 'post'],
  '/snippets/{workspace}/{encoded_id}': ['get'],
  '/snippets/{workspace}/{encoded_id}/comments': ['get'],
  [`${R}/branch-restrictions`]: ['get', 'post'],
  [`${R}/branch-restrictions/{id}`]: ['get', 'put', 'delete'],
  [`${R}/branching-model`]: ['get'],
  [`${R}/branching-model/settings`]: ['get', 'put'],
  [`${R}/default-reviewers`]: ['get'],
  [`${R}/default-reviewers/{target_username}`]: ['get', 'put', 'delete'],
  [`${R}/effective-default-reviewers`]: ['get'],
  [`${R}/hooks`]: ['get', 'post'],
  [`${R}/hooks/{uid}`]: ['get', 'put', 'delete'],
  [`${R}/deploy-keys`]: ['get', 'post'],
  [`${R}/deploy-keys/{key_id}`]: ['get', 'delete'],
  [`${R}/pipelines_config`]: ['get', 'put'],
  [`${R}/pipelines_config/variables`]: ['get', 'post'],
  [`${R}/pipelines_config/variables/{variable_uuid}`]: ['get', 'put', 'delete'],
  [`${R}/pipelines_config/schedules`]: ['get', 'post'],
  [`${R}/pipelines_config/schedules/{schedule_uuid}`]: ['get', 'delete'],
  [`${R}/pipelines_config/ssh/known_hosts`]: ['get', 'post'],
  [`${R}/pipelines_config/ssh/known_hosts/{known_host_uuid}`]: ['get', 'delete'],
  [`${R}/pipelines_config/ssh/key_pair`]: ['get', 'put', 'delete'],
  [`${R}/environments`]: ['get', 'post'],
  [`${R}/environments/{environment_uuid}`]: ['get', 'delete'],
  [`${R}/deployments_config/environments/{environment_uuid}/variables`]: ['get', 'post'],
  [`${R}/deployments_config/environments/{environment_uuid}/variables/{variable_uuid}`]: [
    'put',
    'delete'
  ],
  [`${R}/permissions-config/users`]: ['get'],
  [`${R}/permissions-config/users/{selected_user_id}`]: ['get', 'put', 'delete'],
  [`${R}/permissions-config/groups`]: ['get'],
  [`${R}/permissions-config/groups/{group_slug}`]: ['get', 'put', 'delete'],
  [`${R}/override-settings`]: ['get', 'put'],
  '/workspaces/{workspace}': ['get'],
  '/workspaces/{workspace}/members': ['get'],
  '/workspaces/{workspace}/permissions/repositories': ['get'],
  '/workspaces/{workspace}/permissions/repositories/{repo_slug}': ['get'],
  '/workspaces/{workspace}/projects': ['get', 'post'],
  [P]: ['get', 'put'],
  [`${P}/default-reviewers`]: ['get'],
  [`${P}/default-reviewers/{selected_user}`]: ['put', 'delete'],
  [`${P}/permissions-config/users`]: ['get'],
  [`${P}/permissions-config/users/{selected_user_id}`]: ['put', 'delete'],
  [`${P}/permissions-config/groups`]: ['get'],
  [`${P}/permissions-config/groups/{group_slug}`]: ['put', 'delete']
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
// Shared request bodies the operations name (`#/components/requestBodies/...`), kept whole.
const requestBodies = {}
for (const match of JSON.stringify(paths).matchAll(/"#\/components\/requestBodies\/([^"]+)"/g))
  requestBodies[match[1]] = spec.components.requestBodies[match[1]]
const schemas = {}
const pending = [...roots]
for (const match of JSON.stringify([paths, requestBodies]).matchAll(
  /"#\/components\/schemas\/([^"]+)"/g
))
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
  components: {
    schemas: sorted,
    requestBodies: Object.fromEntries(
      Object.keys(requestBodies)
        .sort()
        .map(n => [n, requestBodies[n]])
    )
  }
}
fs.writeFileSync(target, `${JSON.stringify(subset, null, 2)}\n`)
console.log(
  `${Object.keys(sorted).length} schemas and ${Object.values(paths).flatMap(Object.keys).length} operations written to ${target.pathname}`
)
