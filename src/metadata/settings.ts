// A repository's settings, its project's and its workspace's (REFERENCE.md), read as Bitbucket answers
// them into settings/ of the archive; an endpoint refused (403) or absent (404) is listed in the index
// instead, and the secrets Bitbucket never returns are listed for re-entry after a restore.
import type { BitbucketClient } from '../bitbucket/client.js'
import { BitbucketError } from '../bitbucket/errors.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { firstLineOf } from '../shared/errors.js'
import type { Archive } from './archive.js'
import {
  ArchivePaths,
  type SettingsEndpointEntry,
  type SettingsIndex,
  type SettingsSecrets
} from './layout.js'

/** Every scope the settings endpoints list in the OpenAPI spec, for the 403 warning and the docs. */
export const SETTINGS_SCOPES =
  'admin:repository:bitbucket, read:repository:bitbucket, read:pullrequest:bitbucket, read:webhook:bitbucket, read:pipeline:bitbucket, read:project:bitbucket and read:workspace:bitbucket (API tokens), or repository, repository:admin, pullrequest, webhook, pipeline, project, project:admin and account (access tokens, OAuth)'

/** The archive's name of each repository endpoint, its path below the repository, whether it pages. */
const REPOSITORY_ENDPOINTS: [name: string, path: string, paged: boolean][] = [
  ['branch-restrictions', '/branch-restrictions', true],
  ['branching-model', '/branching-model', false],
  ['branching-model-settings', '/branching-model/settings', false],
  ['default-reviewers', '/default-reviewers', true],
  ['hooks', '/hooks', true],
  ['deploy-keys', '/deploy-keys', true],
  ['pipelines-config', '/pipelines_config', false],
  ['pipelines-variables', '/pipelines_config/variables', true],
  ['pipelines-schedules', '/pipelines_config/schedules', true],
  ['pipelines-known-hosts', '/pipelines_config/ssh/known_hosts', true],
  ['pipelines-key-pair', '/pipelines_config/ssh/key_pair', false],
  ['environments', '/environments', true],
  ['permissions-users', '/permissions-config/users', true],
  ['permissions-groups', '/permissions-config/groups', true],
  ['override-settings', '/override-settings', false]
]
const PROJECT_ENDPOINTS: [string, string, boolean][] = [
  ['project', '', false],
  ['default-reviewers', '/default-reviewers', true],
  ['permissions-users', '/permissions-config/users', true],
  ['permissions-groups', '/permissions-config/groups', true]
]

/**
 * What a full collection of one repository costs when every list fits a page: its endpoints, one
 * environment's variables, its project's and its workspace's (paid once a run, here counted whole).
 */
export const SETTINGS_REQUESTS = REPOSITORY_ENDPOINTS.length + 1 + PROJECT_ENDPOINTS.length + 3

/** One endpoint's answer: the body when 200, the reason when 403 or 404. */
export interface SettingsAnswer extends SettingsEndpointEntry {
  body?: unknown
}

/** Project and workspace answers of this run, shared by every repository that collects settings. */
export type SettingsMemo = Map<string, Promise<SettingsAnswer[]>>

/** Drops what must never be archived, even if a server returned it: secrets, private keys, secured values. */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets)
  if (value === null || typeof value !== 'object') return value
  const secured = (value as { secured?: unknown }).secured === true
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'secret' && key !== 'private_key' && !(secured && key === 'value'))
      .map(([key, inner]) => [key, withoutSecrets(inner)])
  )
}

async function ask(
  client: BitbucketClient,
  apiUrl: string,
  file: string,
  path: string,
  paged: boolean
): Promise<SettingsAnswer> {
  try {
    let body: unknown
    if (paged) {
      const values: unknown[] = []
      for await (const page of client.pages(`${apiUrl}${path}?pagelen=100`, 'metadata'))
        values.push(...page)
      body = { values }
    } else body = await client.getJson(`${apiUrl}${path}`, { purpose: 'metadata' })
    return { file, path, status: 200, body: withoutSecrets(body) }
  } catch (error) {
    // A missing scope or a feature never turned on (pipelines) is noted; the rest still counts.
    if (error instanceof BitbucketError && (error.status === 403 || error.status === 404))
      return { file, path, status: error.status, note: firstLineOf(error) }
    throw error
  }
}

/** A run's memo: a failed load (budget, 5xx) is forgotten so the next repository asks again. */
function remembered(
  memo: SettingsMemo,
  key: string,
  load: () => Promise<SettingsAnswer[]>
): Promise<SettingsAnswer[]> {
  let answers = memo.get(key)
  if (!answers) {
    answers = load()
    memo.set(key, answers)
    answers.catch(() => memo.delete(key))
  }
  return answers
}

async function askAll(
  client: BitbucketClient,
  apiUrl: string,
  endpoints: [file: string, path: string, paged: boolean][]
): Promise<SettingsAnswer[]> {
  const answers: SettingsAnswer[] = []
  // One at a time: repositories already run side by side, and a 403 costs no more than a 200.
  for (const [file, path, paged] of endpoints)
    answers.push(await ask(client, apiUrl, file, path, paged))
  return answers
}

/** Every settings answer of a repository; throws on what is neither an answer, 403 nor 404. */
export async function readSettings(
  client: BitbucketClient,
  apiUrl: string,
  repository: BitbucketRepository,
  memo: SettingsMemo
): Promise<SettingsAnswer[]> {
  const ws = encodeURIComponent(repository.workspace)
  const slug = encodeURIComponent(repository.slug)
  const repo = `/repositories/${ws}/${slug}`
  const answers = await askAll(
    client,
    apiUrl,
    REPOSITORY_ENDPOINTS.map(([name, path, paged]) => [
      ArchivePaths.setting('repository', name),
      `${repo}${path}`,
      paged
    ])
  )
  const environments = answers.find(
    answer => answer.file === ArchivePaths.setting('repository', 'environments')
  )
  for (const environment of valuesOf(environments) as { uuid?: string }[]) {
    if (typeof environment.uuid !== 'string' || !/^\{?[\w-]+\}?$/.test(environment.uuid)) continue
    const path = `${repo}/deployments_config/environments/${encodeURIComponent(environment.uuid)}/variables`
    answers.push(
      await ask(client, apiUrl, ArchivePaths.environmentVariables(environment.uuid), path, true)
    )
  }
  if (repository.projectKey) {
    const project = `/workspaces/${ws}/projects/${encodeURIComponent(repository.projectKey)}`
    const key = `project ${repository.workspace}/${repository.projectKey}`
    const endpoints = PROJECT_ENDPOINTS.map(
      ([name, path, paged]) =>
        [ArchivePaths.setting('project', name), `${project}${path}`, paged] as [
          string,
          string,
          boolean
        ]
    )
    answers.push(...(await remembered(memo, key, () => askAll(client, apiUrl, endpoints))))
  }
  const workspace = `/workspaces/${ws}`
  const shared = await remembered(memo, `workspace ${repository.workspace}`, () =>
    askAll(client, apiUrl, [
      [ArchivePaths.setting('workspace', 'workspace'), workspace, false],
      [ArchivePaths.setting('workspace', 'members'), `${workspace}/members`, true]
    ])
  )
  answers.push(...shared)
  answers.push(
    await ask(
      client,
      apiUrl,
      ArchivePaths.setting('workspace', 'permissions-repositories'),
      `${workspace}/permissions/repositories/${slug}`,
      true
    )
  )
  return answers
}

function valuesOf(answer: SettingsAnswer | undefined): Record<string, unknown>[] {
  const values = (answer?.body as { values?: unknown } | undefined)?.values
  return Array.isArray(values) ? (values as Record<string, unknown>[]) : []
}

const text = (value: unknown) => (typeof value === 'string' ? value : '')

/** What Bitbucket holds but never returns: webhook secrets, secured variables, the private key. */
export function secretsOf(answers: SettingsAnswer[]): SettingsSecrets {
  const byFile = new Map(answers.map(answer => [answer.file, answer]))
  const named = (name: string) => byFile.get(ArchivePaths.setting('repository', name))
  const webhooks = valuesOf(named('hooks'))
    .filter(hook => hook.secret_set === true)
    .map(hook => ({
      uuid: text(hook.uuid),
      url: text(hook.url),
      description: text(hook.description)
    }))
  const securedVariables = valuesOf(named('pipelines-variables'))
    .filter(variable => variable.secured === true)
    .map(variable => ({ key: text(variable.key), where: 'repository' }))
  for (const environment of valuesOf(named('environments'))) {
    const uuid = text(environment.uuid)
    const variables = byFile.get(ArchivePaths.environmentVariables(uuid))
    for (const variable of valuesOf(variables).filter(each => each.secured === true))
      securedVariables.push({
        key: text(variable.key),
        where: `environment ${text(environment.name) || uuid}`
      })
  }
  return {
    webhooks,
    securedVariables,
    pipelinesKeyPair: named('pipelines-key-pair')?.status === 200
  }
}

const asStored = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/**
 * Replaces settings/ of the archive with these answers and their index: a file whose endpoint now
 * answers 403 or 404 leaves the tree (git history keeps it). Nothing changed keeps the index's
 * collectedAt, so unchanged settings make no new archive commit for the targets to publish again.
 */
export async function archiveSettings(
  archive: Archive,
  answers: SettingsAnswer[],
  at: string
): Promise<SettingsIndex> {
  const files = new Map<string, string>()
  for (const answer of answers)
    if (answer.status === 200) files.set(answer.file, asStored(answer.body))
  const index: SettingsIndex = {
    collectedAt: at,
    endpoints: answers.map(({ file, path, status, note }) => ({
      file,
      path,
      status,
      ...(note ? { note } : {})
    })),
    secrets: secretsOf(answers)
  }
  const before = archive.paths(ArchivePaths.settingsDir)
  const kept = await archive.readMany(before)
  const previous = kept.get(ArchivePaths.settingsIndex)
  const unchanged =
    previous !== undefined &&
    before.length === files.size + 1 &&
    [...files].every(([file, text]) => kept.get(file) === text) &&
    asStored({ ...(JSON.parse(previous) as SettingsIndex), collectedAt: at }) === asStored(index)
  if (unchanged) return JSON.parse(previous) as SettingsIndex
  for (const file of before) if (!files.has(file)) archive.remove(file)
  for (const [file, text] of files) archive.putText(file, text)
  archive.putJson(ArchivePaths.settingsIndex, index)
  return index
}
