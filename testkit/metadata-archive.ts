// A backup mirror with a full metadata archive, for restore tests: the repository's git cloned as a
// mirror, its pull requests and Downloads archived by the backup's own code, and every settings
// endpoint read through the API into the layout the settings backup writes (settings/repository/*,
// settings/index.json with its `secrets`), committed to refs/backup/metadata.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createBitbucketClient } from '../src/bitbucket/client.js'
import { createBitbucketAuth } from '../src/credentials/credentials.js'
import { createGit } from '../src/git/git.js'
import { openArchive } from '../src/metadata/archive.js'
import { archiveDownloads, listDownloads } from '../src/metadata/downloads.js'
import { ArchivePaths } from '../src/metadata/layout.js'
import type { LocalBitbucket } from './bitbucket/index.js'
import { ALL_API_TOKEN_SCOPES, basic, call, walk, type Json } from './bitbucket/metadata-client.js'

/** The layout's repository settings: file name → endpoint below the repository. */
export const REPOSITORY_SETTINGS: Record<string, string> = {
  'branch-restrictions': 'branch-restrictions',
  'branching-model': 'branching-model',
  'branching-model-settings': 'branching-model/settings',
  'default-reviewers': 'default-reviewers',
  hooks: 'hooks',
  'deploy-keys': 'deploy-keys',
  'pipelines-config': 'pipelines_config',
  'pipelines-variables': 'pipelines_config/variables',
  'pipelines-schedules': 'pipelines_config/schedules',
  'pipelines-known-hosts': 'pipelines_config/ssh/known_hosts',
  'pipelines-key-pair': 'pipelines_config/ssh/key_pair',
  environments: 'environments',
  'permissions-users': 'permissions-config/users',
  'permissions-groups': 'permissions-config/groups',
  'override-settings': 'override-settings'
}

/** One endpoint as the layout keeps it: a paged list whole in `values`, anything else as answered. */
async function readEndpoint(bb: LocalBitbucket, auth: string, path: string) {
  const first = await call(bb, auth, 'GET', path)
  if (first.status !== 200) return { status: first.status, json: undefined }
  if (!Array.isArray(first.json?.values)) return { status: 200, json: first.json }
  return { status: 200, json: { values: (await walk(bb, auth, path)).values } }
}

/**
 * Backs up `workspace/slug` of `bb` into `<backupDir>/<workspace>/<slug>.git` with its archive.
 * @returns the mirror's path
 */
export async function backUpWithMetadata(
  bb: LocalBitbucket,
  workspace: string,
  slug: string,
  backupDir: string
): Promise<string> {
  const email = `archivist@example.com`
  const token = `ATATT-archivist-${Math.random().toString(36).slice(2)}`
  bb.addApiToken({ email, username: 'archivist', token, scopes: ALL_API_TOKEN_SCOPES })
  const auth = basic(email, token)
  const mirror = path.join(backupDir, workspace, `${slug}.git`)
  fs.mkdirSync(path.dirname(mirror), { recursive: true })
  execFileSync('git', ['clone', '-q', '--mirror', bb.repository(workspace, slug)!.gitDir, mirror])
  const archive = await openArchive(createGit(), mirror)
  const base = `/repositories/${workspace}/${slug}`

  for (const summary of (
    await walk(
      bb,
      auth,
      `${base}/pullrequests?state=OPEN&state=MERGED&state=DECLINED&state=SUPERSEDED`
    )
  ).values) {
    const pullRequest = (await call(bb, auth, 'GET', `${base}/pullrequests/${summary.id}`)).json
    const comments = (await walk(bb, auth, `${base}/pullrequests/${summary.id}/comments`)).values
    archive.putJson(ArchivePaths.pullRequest(summary.id), {
      pullRequest,
      comments,
      activity: [],
      tasks: [],
      statuses: [],
      diffKept: false
    })
  }

  const client = createBitbucketClient({
    apiUrl: bb.apiUrl,
    auth: createBitbucketAuth(
      { kind: 'api-token', email, token },
      { oauthTokenUrl: bb.oauthTokenUrl, mask: () => undefined }
    ),
    log: { info: () => undefined, warning: () => undefined, debug: () => undefined }
  })
  const scratch = fs.mkdtempSync(path.join(backupDir, '.scratch-'))
  const listed = await listDownloads(client, `${bb.apiUrl}${base}`)
  await archiveDownloads(client, `${bb.apiUrl}${base}`, listed, archive, scratch)

  const endpoints: Json[] = []
  const secrets = {
    webhooks: [] as Json[],
    securedVariables: [] as Json[],
    pipelinesKeyPair: false
  }
  const keep = async (file: string, endpoint: string) => {
    const answer = await readEndpoint(bb, auth, endpoint)
    endpoints.push({ file, path: endpoint, status: answer.status })
    if (answer.json !== undefined) archive.putJson(file, answer.json)
    return answer
  }
  for (const [name, endpoint] of Object.entries(REPOSITORY_SETTINGS)) {
    const answer = await keep(ArchivePaths.setting('repository', name), `${base}/${endpoint}`)
    const values: Json[] = answer.json?.values ?? []
    if (name === 'hooks')
      for (const hook of values.filter(hook => hook.secret_set))
        secrets.webhooks.push({ uuid: hook.uuid, url: hook.url, description: hook.description })
    if (name === 'pipelines-variables')
      for (const variable of values.filter(variable => variable.secured))
        secrets.securedVariables.push({ key: variable.key, where: 'repository' })
    if (name === 'pipelines-key-pair') secrets.pipelinesKeyPair = answer.status === 200
    if (name === 'environments')
      for (const environment of values) {
        const variables = await keep(
          ArchivePaths.environmentVariables(String(environment.uuid)),
          `${base}/deployments_config/environments/${encodeURIComponent(environment.uuid)}/variables`
        )
        for (const variable of (variables.json?.values ?? []).filter((v: Json) => v.secured))
          secrets.securedVariables.push({
            key: variable.key,
            where: `environment ${environment.name}`
          })
      }
  }
  archive.putJson(ArchivePaths.settingsIndex, {
    collectedAt: new Date().toISOString(),
    endpoints,
    secrets
  })
  await archive.commit('metadata', () => ({ version: 1, collectedAt: {} }))
  fs.rmSync(scratch, { recursive: true, force: true })
  return mirror
}
