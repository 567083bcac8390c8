// A backup mirror with a full metadata archive, for restore tests: the repository's git cloned as a
// mirror, and its pull requests, Downloads and settings archived into refs/backup/metadata by the
// backup's own collection (src/metadata: probe, then collect), as a run of the action would.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createRestBudget } from '../src/bitbucket/budget.js'
import { createBitbucketClient } from '../src/bitbucket/client.js'
import type { BitbucketRepository } from '../src/bitbucket/types.js'
import { createBitbucketAuth } from '../src/credentials/credentials.js'
import { createGit } from '../src/git/git.js'
import { collectMetadata } from '../src/metadata/collect.js'
import { createMetadataService } from '../src/metadata/service.js'
import type { RepositoryState } from '../src/state/state.js'
import type { LocalBitbucket } from './bitbucket/index.js'
import { ALL_API_TOKEN_SCOPES } from './bitbucket/metadata-client.js'

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
  const mirror = path.join(backupDir, workspace, `${slug}.git`)
  fs.mkdirSync(path.dirname(mirror), { recursive: true })
  execFileSync('git', ['clone', '-q', '--mirror', bb.repository(workspace, slug)!.gitDir, mirror])

  const log = { info: () => undefined, warning: () => undefined, debug: () => undefined }
  const auth = createBitbucketAuth(
    { kind: 'api-token', email, token },
    { oauthTokenUrl: bb.oauthTokenUrl, mask: () => undefined }
  )
  const budget = createRestBudget(10_000)
  const client = createBitbucketClient({ apiUrl: bb.apiUrl, auth, log, budget })
  const service = createMetadataService({
    client,
    budget,
    apiUrl: bb.apiUrl,
    kinds: ['pull-requests', 'downloads', 'settings'],
    git: createGit()
  })
  let repository: BitbucketRepository | undefined
  for await (const listed of client.listRepositories(workspace))
    if (listed.slug === slug) repository = listed
  if (!repository) throw new Error(`${workspace}/${slug} is not listed`)
  const plan = await service.probe(repository, undefined, false)
  const state = { uuid: repository.uuid, slug, metadata: {} } as RepositoryState
  const outcome = await collectMetadata(service, plan, { repository, mirror, state, log: () => {} })
  if (outcome?.problems || outcome?.deferred)
    throw new Error(
      `the archive is incomplete: ${outcome.deferred ?? outcome.problems?.join('; ')}`
    )
  return mirror
}
