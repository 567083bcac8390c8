// The round trip of a repository's metadata: buildMetadataFixture's repository backed up with its
// archive, restored with the command line into a fresh local Bitbucket, and every restorable setting
// and Download read back through the API equal to the original's; a second restore adds nothing;
// the checklist names what Bitbucket never hands out; a credential without admin scopes restores git
// and says, one line each, what it could not write.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from '../../../testkit/bitbucket/index.js'
import { buildMetadataFixture } from '../../../testkit/bitbucket/metadata-fixture.js'
import {
  ALL_API_TOKEN_SCOPES,
  basic,
  call,
  walk,
  type Json
} from '../../../testkit/bitbucket/metadata-client.js'
import { backUpWithMetadata, REPOSITORY_SETTINGS } from '../../../testkit/metadata-archive.js'
import { refsOf } from '../../../testkit/git-inspect.js'
import { runRestoreCli } from '../cli.js'

let source: LocalBitbucket
let root: string
let backupDir: string
let sourceAuth: string
const started: LocalBitbucket[] = []

/** What differs by nature between two repositories: ids, links, dates, the workspace's name. */
const VOLATILE = new Set([
  'uuid',
  'id',
  'links',
  'created_on',
  'updated_on',
  'created_at',
  'added_on',
  'last_used',
  'subject',
  'repository',
  'owner',
  'project',
  'workspace',
  'full_slug'
])

function normalize(value: Json): Json {
  if (Array.isArray(value))
    return value.map(normalize).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !VOLATILE.has(key))
        .map(([key, inner]) => [key, normalize(inner)])
    )
  return value
}

/** Every restorable setting of a repository as the API answers it, without what differs by nature. */
async function settingsOf(bb: LocalBitbucket, auth: string, workspace: string) {
  const base = `/repositories/${workspace}/meta`
  const read = async (endpoint: string) => {
    const first = await call(bb, auth, 'GET', `${base}/${endpoint}`)
    if (first.status !== 200) return { status: first.status }
    return Array.isArray(first.json.values)
      ? (await walk(bb, auth, `${base}/${endpoint}`)).values
      : first.json
  }
  const settings: Record<string, Json> = {}
  for (const [name, endpoint] of Object.entries(REPOSITORY_SETTINGS))
    if (name !== 'pipelines-key-pair') settings[name] = await read(endpoint)
  // A webhook's secret never leaves Bitbucket either: whether one is set is compared on its own.
  settings.hooks = settings.hooks.map(({ secret_set: _set, ...hook }: Json) => hook)
  // Secured values never leave Bitbucket: the checklist names them instead.
  settings['pipelines-variables'] = settings['pipelines-variables'].filter((v: Json) => !v.secured)
  for (const environment of settings.environments) {
    const variables = await read(
      `deployments_config/environments/${encodeURIComponent(environment.uuid)}/variables`
    )
    settings[`variables of ${environment.name}`] = variables.filter((v: Json) => !v.secured)
  }
  return normalize(settings)
}

/** Each Download's bytes, fetched as a client does: the redirect followed without the credential. */
async function downloadsOf(bb: LocalBitbucket, auth: string, workspace: string) {
  const base = `/repositories/${workspace}/meta/downloads`
  const files: Record<string, string> = {}
  for (const download of (await walk(bb, auth, base)).values) {
    const redirect = await call(bb, auth, 'GET', `${base}/${encodeURIComponent(download.name)}`)
    const bytes = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer())
    files[download.name] = bytes.toString('base64')
  }
  return files
}

/** A fresh Bitbucket with workspace `reborn`, the team's users and groups, and a restorer's token. */
async function freshDestination(options: { scopes?: string[]; groups?: boolean } = {}) {
  const bb = await startLocalBitbucket()
  started.push(bb)
  bb.createWorkspace('reborn')
  for (const nickname of ['alice', 'bob', 'carol', 'dave'])
    bb.addUser('reborn', { nickname, displayName: nickname[0].toUpperCase() + nickname.slice(1) })
  bb.addUser('reborn', { nickname: 'restorer' })
  if (options.groups !== false) {
    bb.addGroup('reborn', { slug: 'developers', name: 'Developers', members: ['alice', 'bob'] })
    bb.addGroup('reborn', { slug: 'release-managers', name: 'Release managers' })
  }
  const token = `ATATT-restorer-${Math.random().toString(36).slice(2)}`
  const email = 'restorer@example.com'
  bb.addApiToken({
    email,
    username: 'restorer',
    token,
    scopes: options.scopes ?? ALL_API_TOKEN_SCOPES
  })
  return {
    bb,
    env: { BITBUCKET_EMAIL: email, BITBUCKET_API_TOKEN: token },
    auth: basic(email, token),
    token
  }
}

async function restore(
  destination: Awaited<ReturnType<typeof freshDestination>>,
  args: string[] = []
) {
  const lines: string[] = []
  const code = await runRestoreCli(
    [
      ...['--from', backupDir, '--bitbucket-workspace', 'reborn'],
      ...['--bitbucket-api-url', destination.bb.apiUrl, ...args]
    ],
    destination.env,
    line => lines.push(line)
  )
  const output = lines.join('\n')
  expect(output).not.toContain(destination.token)
  return { code, output }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-metadata-'))
  backupDir = path.join(root, 'backup')
  source = await startLocalBitbucket()
  await buildMetadataFixture(source)
  await backUpWithMetadata(source, 'acme', 'meta', backupDir)
  // A second repository with no archive at all: restored beside it, and never failed by it.
  execFileSync('git', [
    ...['clone', '-q', '--mirror', source.repository('acme', 'meta')!.gitDir],
    path.join(backupDir, 'acme', 'plain.git')
  ])
  const token = 'ATATT-reader'
  source.addApiToken({
    email: 'reader@example.com',
    username: 'reader',
    token,
    scopes: ALL_API_TOKEN_SCOPES
  })
  sourceAuth = basic('reader@example.com', token)
}, 120_000)

afterAll(async () => {
  for (const bb of [source, ...started]) await bb?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('restoring metadata into a fresh Bitbucket', () => {
  it('brings back every restorable setting and Download, with a checklist of what to re-enter; a second restore adds nothing', async () => {
    const destination = await freshDestination()
    const first = await restore(destination, ['--reopen-pull-requests'])
    expect(first.output).toMatch(/2 restored, 0 failed/)
    expect(first.code).toBe(0)
    const original = await settingsOf(source, sourceAuth, 'acme')
    expect(await settingsOf(destination.bb, destination.auth, 'reborn')).toEqual(original)
    const bytes = await downloadsOf(source, sourceAuth, 'acme')
    expect(Object.keys(bytes).sort()).toEqual(['empty.bin', 'notes.txt', 'release-1.0.tar.gz'])
    expect(await downloadsOf(destination.bb, destination.auth, 'reborn')).toEqual(bytes)

    const todo = first.output.slice(first.output.indexOf('To do by hand:'))
    expect(todo).toContain(
      'acme/meta: re-enter the secret of webhook https://ci.example.com/hook (CI)'
    )
    expect(todo).toContain('acme/meta: re-enter secured variable TOKEN (repository)')
    expect(todo).toContain(
      'acme/meta: re-enter secured variable DEPLOY_TOKEN (environment Production)'
    )
    expect(todo).toMatch(/acme\/meta: re-enter the pipelines SSH key pair/)
    expect(todo).not.toMatch(/not restored/)

    // Only the pull request that was open, from the same branches, pointing at its archive.
    const reopened = (
      await walk(
        destination.bb,
        destination.auth,
        '/repositories/reborn/meta/pullrequests?state=OPEN&state=MERGED&state=DECLINED'
      )
    ).values
    expect(
      reopened.map((pr: Json) => [pr.title, pr.source.branch.name, pr.destination.branch.name])
    ).toEqual([['Answer the question', 'feature/open', 'main']])
    expect(reopened[0].description).toMatch(/^Fixes the \*\*answer\*\*\.\n/)
    expect(reopened[0].description).toContain('originally #1 by Alice')
    expect(reopened[0].description).toContain('refs/backup/metadata pull-requests/1.json')

    const second = await restore(destination, ['--overwrite', '--reopen-pull-requests'])
    expect(second.code).toBe(0)
    expect(await settingsOf(destination.bb, destination.auth, 'reborn')).toEqual(original)
    expect(await downloadsOf(destination.bb, destination.auth, 'reborn')).toEqual(bytes)
    const open = (
      await walk(destination.bb, destination.auth, '/repositories/reborn/meta/pullrequests')
    ).values
    expect(open).toHaveLength(1)
    expect(second.output).toContain(
      'pull request #1 was not reopened: feature/open → main is open there already'
    )
  }, 120_000)

  it('restores git only when told so (--metadata none)', async () => {
    const destination = await freshDestination()
    const run = await restore(destination, ['--metadata', 'none', '--repositories', 'meta'])
    expect(run.code).toBe(0)
    expect(
      (await call(destination.bb, destination.auth, 'GET', '/repositories/reborn/meta/hooks')).json
        .values
    ).toEqual([])
    expect(
      (await call(destination.bb, destination.auth, 'GET', '/repositories/reborn/meta/downloads'))
        .json.values
    ).toEqual([])
    expect(run.output).not.toContain('To do by hand')
  }, 60_000)

  it('names a group the destination lacks, one line for each setting that needs it', async () => {
    const destination = await freshDestination({ groups: false })
    const run = await restore(destination, ['--repositories', 'meta'])
    expect(run.code).toBe(0)
    const refused = run.output.split('\n').filter(line => /^ {2}.*not restored/.test(line))
    expect(refused).toEqual([
      expect.stringMatching(
        /^ {2}acme\/meta: not restored: branch restriction push main: .*developers/
      ),
      expect.stringMatching(
        /^ {2}acme\/meta: not restored: group developers permission \(read\): the destination workspace has no group developers; create it, then restore again with overwrite \(HTTP 404\)$/
      )
    ])
  }, 60_000)

  it('restores git with a credential that may not change settings, and says what it could not write', async () => {
    const destination = await freshDestination({
      scopes: ['read:repository:bitbucket', 'write:repository:bitbucket']
    })
    // Without the admin scope the restore may not create repositories: they are there already.
    destination.bb.addRepository('reborn', 'meta', { empty: true })
    destination.bb.addRepository('reborn', 'plain', { empty: true })
    const run = await restore(destination)
    expect(run.output).toMatch(/2 restored, 0 failed/)
    expect(run.code).toBe(0)
    expect(refsOf(destination.bb.repository('reborn', 'meta')!.gitDir)).toEqual(
      refsOf(source.repository('acme', 'meta')!.gitDir)
    )
    const refused = run.output
      .split('\n')
      .filter(line => /^ {2}acme\/meta: not restored: /.test(line))
    expect(refused.length).toBeGreaterThanOrEqual(8)
    for (const line of refused) expect(line).toMatch(/HTTP 403\): give it the scope /)
    expect(refused.join('\n')).toMatch(/webhooks: .*read:webhook:bitbucket/)
    expect(refused.join('\n')).toMatch(/branching model settings: .*admin:repository:bitbucket/)
    // Downloads need only the write scope it has.
    expect(await downloadsOf(destination.bb, destination.auth, 'reborn')).toEqual(
      await downloadsOf(source, sourceAuth, 'acme')
    )
  }, 60_000)
})
