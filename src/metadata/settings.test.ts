// Settings against the local Bitbucket over real HTTP, through the run's probe and collection: every
// file of the layout written from what the stand-in holds, no secret in the archive and each one
// listed for re-entry, read again only on their rotation, refused endpoints (403) noted without
// failing the repository, and held back when the REST budget cannot afford them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { ALL_API_TOKEN_SCOPES } from '../../testkit/bitbucket/metadata-client.js'
import {
  buildMetadataFixture,
  type MetadataFixture
} from '../../testkit/bitbucket/metadata-fixture.js'
import { createRestBudget } from '../bitbucket/budget.js'
import { createBitbucketClient } from '../bitbucket/client.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { createBitbucketAuth } from '../credentials/credentials.js'
import { createGit } from '../git/git.js'
import type { RepositoryState } from '../state/state.js'
import { collectMetadata } from './collect.js'
import {
  ArchivePaths,
  METADATA_REF,
  type ArchiveManifest,
  type MetadataKind,
  type SettingsIndex
} from './layout.js'
import { createMetadataService, type MetadataService } from './service.js'
import { SETTINGS_REQUESTS, SETTINGS_SCOPES, withoutSecrets } from './settings.js'

const SECRETS = [
  'hook-secret-value',
  'secured-variable-value',
  'secured-deployment-value',
  'private-key-value'
]
const DAY_MS = 86_400_000
const git = createGit()
let bb: LocalBitbucket
let fixture: MetadataFixture
let root: string
let tokens = 0
const repositories = new Map<string, BitbucketRepository>()

/** A client whose API token holds `scopes`, and the run's service over it. */
function serviceFor(options: { scopes?: string[]; budget?: number; now?: Date } = {}) {
  const token = `ATATT3xFfGF0settings-${++tokens}`
  const email = `settings-${tokens}@example.com`
  bb.addApiToken({
    email,
    username: 'alice',
    token,
    scopes: options.scopes ?? ALL_API_TOKEN_SCOPES
  })
  const auth = createBitbucketAuth(
    { kind: 'api-token', email, token },
    { oauthTokenUrl: bb.oauthTokenUrl, mask: () => {} }
  )
  const log = { info: () => {}, warning: () => {}, debug: () => {} }
  const budget = createRestBudget(options.budget ?? 900)
  const client = createBitbucketClient({ apiUrl: bb.apiUrl, auth, log, budget })
  const kinds: MetadataKind[] = ['settings']
  const now = options.now ?? new Date()
  return createMetadataService({ client, budget, apiUrl: bb.apiUrl, kinds, git, now: () => now })
}

/** One repository through a run's probe and collection, into its own bare mirror. */
async function backUp(service: MetadataService, slug: string, prior?: RepositoryState) {
  const repository = repositories.get(slug)!
  const mirror = path.join(root, `${slug}.git`)
  if (!fs.existsSync(mirror)) execFileSync('git', ['init', '-q', '--bare', mirror])
  const plan = await service.probe(repository, prior, false)
  const state = {
    ...(prior ?? { uuid: repository.uuid, slug }),
    metadata: { ...prior?.metadata }
  } as RepositoryState
  const outcome = await collectMetadata(service, plan, { repository, mirror, state, log: () => {} })
  return { plan, state, outcome, mirror }
}

const show = (mirror: string, file: string) =>
  execFileSync('git', ['show', `${METADATA_REF}:${file}`], { cwd: mirror }).toString()
const json = (mirror: string, file: string) => JSON.parse(show(mirror, file))
const tree = (mirror: string) =>
  execFileSync('git', ['ls-tree', '-r', '--name-only', METADATA_REF], { cwd: mirror })
    .toString()
    .trim()
    .split('\n')
const settingsRequests = () =>
  bb.requests.filter(r => !/^\/2\.0\/repositories\/acme\/?(\?|$)/.test(r.path))

beforeAll(async () => {
  bb = await startLocalBitbucket()
  fixture = await buildMetadataFixture(bb)
  // A second repository of the same project: no settings of its own, its project's shared.
  bb.addRepository('acme', 'plain', { projectKey: 'META' })
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-settings-'))
  const lister = serviceFor()
  for await (const repository of lister.options.client.listRepositories('acme'))
    repositories.set(repository.slug, repository)
}, 60_000)
afterAll(async () => {
  await bb?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('settings', () => {
  let first: Awaited<ReturnType<typeof backUp>>

  it('are archived in every file of the layout, as the stand-in holds them, with no secret', async () => {
    bb.clearRequests()
    first = await backUp(serviceFor(), 'meta')
    const { mirror, state, outcome } = first
    expect(outcome?.problems).toBeUndefined()
    const environment = fixture.environment.replace(/[{}]/g, '')
    const files = tree(mirror).filter(file => file.startsWith('settings/'))
    expect(files.sort()).toEqual(
      [
        ...[
          'branch-restrictions',
          'branching-model',
          'branching-model-settings',
          'default-reviewers',
          'hooks',
          'deploy-keys',
          'pipelines-config',
          'pipelines-variables',
          'pipelines-schedules',
          'pipelines-known-hosts',
          'pipelines-key-pair',
          'environments',
          'permissions-users',
          'permissions-groups',
          'override-settings'
        ].map(name => `settings/repository/${name}.json`),
        `settings/repository/environment-variables/${environment}.json`,
        ...['project', 'default-reviewers', 'permissions-users', 'permissions-groups'].map(
          name => `settings/project/${name}.json`
        ),
        ...['workspace', 'members', 'permissions-repositories'].map(
          name => `settings/workspace/${name}.json`
        ),
        'settings/index.json'
      ].sort()
    )
    const repo = (name: string) => json(mirror, ArchivePaths.setting('repository', name))
    expect(repo('branch-restrictions').values.map((r: { kind: string }) => r.kind)).toEqual([
      'push',
      'require_approvals_to_merge'
    ])
    expect(repo('branching-model-settings').production).toMatchObject({ name: 'release' })
    expect(repo('default-reviewers').values.map((u: { nickname: string }) => u.nickname)).toEqual([
      'bob'
    ])
    expect(repo('hooks').values).toEqual([
      expect.objectContaining({ uuid: fixture.hook, url: 'https://ci.example.com/hook' })
    ])
    expect(repo('deploy-keys').values[0]).toMatchObject({ label: 'CI deploy' })
    expect(repo('pipelines-config')).toMatchObject({ enabled: true })
    expect(repo('pipelines-variables').values.map((v: { key: string }) => v.key)).toEqual([
      'PLAIN',
      'TOKEN'
    ])
    expect(repo('pipelines-schedules').values[0]).toMatchObject({ cron_pattern: '0 0 12 * * ? *' })
    expect(repo('pipelines-known-hosts').values[0]).toMatchObject({ hostname: 'example.com' })
    expect(Object.keys(repo('pipelines-key-pair')).sort()).toEqual(['public_key', 'type'])
    expect(repo('environments').values.map((e: { uuid: string }) => e.uuid)).toContain(
      fixture.environment
    )
    expect(repo('permissions-users').values[0]).toMatchObject({ permission: 'write' })
    expect(repo('permissions-groups').values[0]).toMatchObject({ permission: 'read' })
    expect(repo('override-settings')).toMatchObject({
      override_settings: { branching_model: true }
    })
    const variables = json(mirror, ArchivePaths.environmentVariables(fixture.environment))
    expect(variables.values.map((v: { key: string }) => v.key).sort()).toEqual([
      'DEPLOY_TOKEN',
      'DEPLOY_URL'
    ])
    expect(json(mirror, ArchivePaths.setting('project', 'project'))).toMatchObject({
      key: 'META',
      name: 'Metadata'
    })
    expect(json(mirror, ArchivePaths.setting('project', 'permissions-groups')).values).toHaveLength(
      1
    )
    expect(json(mirror, ArchivePaths.setting('workspace', 'workspace')).slug).toBe('acme')
    expect(json(mirror, ArchivePaths.setting('workspace', 'members')).values).toHaveLength(4)
    const permissions = json(mirror, ArchivePaths.setting('workspace', 'permissions-repositories'))
    expect(
      permissions.values.map((p: { repository: { full_name: string } }) => p.repository.full_name)
    ).toEqual(['acme/meta'])
    // Nothing secret anywhere in the archive's history.
    const everything = execFileSync('git', ['log', '-p', METADATA_REF], { cwd: mirror }).toString()
    for (const secret of SECRETS) expect(everything).not.toContain(secret)
    expect(state.metadata?.settingsCheckedAt).toBeDefined()
    const manifest = json(mirror, ArchivePaths.manifest) as ArchiveManifest
    expect(manifest.collectedAt.settings).toBe(state.metadata?.settingsCheckedAt)
    // Every request was a metadata one counted for the repository.
    expect(outcome?.requests).toBe(settingsRequests().length)
    expect(outcome!.requests).toBeLessThanOrEqual(SETTINGS_REQUESTS)
  })

  it('lists in the index every endpoint and the secrets to enter again after a restore', () => {
    const index = json(first.mirror, ArchivePaths.settingsIndex) as SettingsIndex
    expect(Date.parse(index.collectedAt)).not.toBeNaN()
    expect(index.endpoints).toHaveLength(23)
    expect(index.endpoints.every(endpoint => endpoint.status === 200)).toBe(true)
    expect(index.endpoints).toContainEqual({
      file: 'settings/repository/hooks.json',
      path: '/repositories/acme/meta/hooks',
      status: 200
    })
    expect(index.endpoints).toContainEqual({
      file: 'settings/workspace/permissions-repositories.json',
      path: '/workspaces/acme/permissions/repositories/meta',
      status: 200
    })
    expect(index.secrets).toEqual({
      webhooks: [{ uuid: fixture.hook, url: 'https://ci.example.com/hook', description: 'CI' }],
      securedVariables: [
        { key: 'TOKEN', where: 'repository' },
        { key: 'DEPLOY_TOKEN', where: 'environment Production' }
      ],
      pipelinesKeyPair: true
    })
  })

  it('are not read again within their rotation, and the probe costs nothing for them', async () => {
    const commit = first.state.metadata?.commit
    bb.clearRequests()
    const hourLater = new Date(Date.now() + 3600_000)
    const again = await backUp(serviceFor({ now: hourLater }), 'meta', first.state)
    expect([again.plan.settingsDue, again.plan.needsMirror, again.plan.requests]).toEqual([
      false,
      false,
      0
    ])
    expect(settingsRequests()).toEqual([])
    expect(again.state.metadata).toEqual(first.state.metadata)
    // Past the rotation they are read again; unchanged, they make no new archive commit.
    const weekLater = new Date(Date.now() + 8 * DAY_MS)
    const due = await backUp(serviceFor({ now: weekLater }), 'meta', first.state)
    expect(due.plan.settingsDue).toBe(true)
    expect(due.outcome?.requests).toBeGreaterThan(15)
    expect(due.state.metadata?.commit).toBe(commit)
    expect(due.state.metadata?.settingsCheckedAt).not.toBe(first.state.metadata?.settingsCheckedAt)
  })

  it('read the project and the workspace once a run for every repository, and note a 404', async () => {
    bb.clearRequests()
    const service = serviceFor()
    await backUp(service, 'meta')
    const plain = await backUp(service, 'plain')
    const asked = (path: string) => bb.requests.filter(r => r.path.split('?')[0] === path).length
    expect(asked('/2.0/workspaces/acme/projects/META')).toBe(1)
    expect(asked('/2.0/workspaces/acme')).toBe(1)
    expect(asked('/2.0/workspaces/acme/members')).toBe(1)
    expect(json(plain.mirror, ArchivePaths.setting('project', 'project'))).toMatchObject({
      key: 'META'
    })
    const index = json(plain.mirror, ArchivePaths.settingsIndex) as SettingsIndex
    const keyPair = index.endpoints.find(e => e.file.endsWith('pipelines-key-pair.json'))
    expect(keyPair).toMatchObject({ status: 404 })
    expect(tree(plain.mirror)).not.toContain('settings/repository/pipelines-key-pair.json')
    expect(index.secrets).toEqual({ webhooks: [], securedVariables: [], pipelinesKeyPair: false })
    expect(plain.outcome?.problems).toBeUndefined()
  })

  it('refused for want of a scope (403) are listed and named once, never failing the repository', async () => {
    const service = serviceFor({
      scopes: ['read:repository:bitbucket', 'read:workspace:bitbucket']
    })
    const { outcome, state, mirror } = await backUp(service, 'meta')
    expect(outcome?.problems).toBeUndefined()
    expect(state.metadata?.settingsCheckedAt).toBeDefined()
    const index = json(mirror, ArchivePaths.settingsIndex) as SettingsIndex
    const restrictions = index.endpoints.find(e => e.file.endsWith('branch-restrictions.json'))
    expect(restrictions).toMatchObject({ status: 403 })
    expect(restrictions?.note).toContain('admin:repository:bitbucket')
    expect(tree(mirror)).not.toContain('settings/repository/branch-restrictions.json')
    // What the scopes allow is still kept.
    expect(json(mirror, ArchivePaths.setting('repository', 'branching-model'))).toBeDefined()
    const warnings = service.warnings().filter(line => line.includes('settings'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(SETTINGS_SCOPES)
    expect(warnings[0]).toMatch(
      /^Some settings were not backed up: \d+ endpoints answered HTTP 403/
    )
    // The settings 403 ends with its catalogue code, not the code of the Bitbucket error it quotes.
    expect(warnings[0]).toMatch(/\[MD403\]$/)
    expect(warnings[0]).not.toContain('[BB403]')
  })

  it('wait for the next run when the REST budget cannot afford them, which then serves them first', async () => {
    const prior = first.state
    bb.clearRequests()
    const due = new Date(Date.now() + 8 * DAY_MS)
    const starved = await backUp(
      serviceFor({ budget: SETTINGS_REQUESTS - 5, now: due }),
      'meta',
      prior
    )
    expect(starved.plan.settingsDue).toBe(false)
    expect(starved.outcome?.deferred).toMatch(/REST budget/)
    expect(starved.state.metadata?.deferred).toMatchObject({ settings: true })
    expect(starved.state.metadata?.settingsCheckedAt).toBe(prior.metadata?.settingsCheckedAt)
    expect(settingsRequests()).toEqual([])
    // Next run, on a day their rotation would not pick: the deferral makes them due.
    const soon = new Date(Date.parse(prior.metadata!.settingsCheckedAt!) + 3600_000)
    const served = await backUp(serviceFor({ now: soon }), 'meta', starved.state)
    expect(served.plan.settingsDue).toBe(true)
    expect(served.state.metadata?.deferred).toBeUndefined()
    expect(served.state.metadata?.settingsCheckedAt).not.toBe(prior.metadata?.settingsCheckedAt)
  })
})

describe('settings cut short by the REST budget', () => {
  it('leave no partial settings in the archive, and wait for the next run', async () => {
    const service = serviceFor({ budget: SETTINGS_REQUESTS + 5 })
    const repository = repositories.get('meta')!
    const mirror = path.join(root, 'cut.git')
    execFileSync('git', ['init', '-q', '--bare', mirror])
    const plan = await service.probe(repository, undefined, false)
    expect(plan.settingsDue).toBe(true)
    // The rest of the run (the listing's pages) spends the budget after the probe.
    for (let i = 0; i < 15; i++) service.options.budget.take('git')
    const state = { uuid: repository.uuid, slug: 'meta' } as RepositoryState
    const outcome = await collectMetadata(service, plan, {
      repository,
      mirror,
      state,
      log: () => {}
    })
    expect(outcome?.deferred).toMatch(/REST budget/)
    expect(outcome?.problems).toBeUndefined()
    expect(state.metadata?.deferred).toMatchObject({ settings: true })
    expect(state.metadata?.settingsCheckedAt).toBeUndefined()
    const refs = execFileSync('git', ['for-each-ref'], { cwd: mirror }).toString()
    expect(refs).toBe('')
    expect(service.deferred).toBe(1)
  })
})

describe('withoutSecrets', () => {
  it('drops a secret, a private key and a secured value even if a server returned them', () => {
    expect(
      withoutSecrets({
        values: [
          { uuid: '{1}', secret: 'x', secret_set: true },
          { key: 'A', value: 'shown', secured: false },
          { key: 'B', value: 'hidden', secured: true }
        ],
        private_key: 'k',
        public_key: 'p'
      })
    ).toEqual({
      values: [
        { uuid: '{1}', secret_set: true },
        { key: 'A', value: 'shown', secured: false },
        { key: 'B', secured: true }
      ],
      public_key: 'p'
    })
  })
})
