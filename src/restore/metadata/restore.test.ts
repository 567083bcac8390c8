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
import { backUpWithMetadata } from '../../../testkit/metadata-archive.js'
import {
  downloadsOf,
  freshDestination as startDestination,
  restoreInto,
  settingsOf,
  type Destination
} from '../../../testkit/metadata-restore.js'
import { refsOf } from '../../../testkit/git-inspect.js'

let source: LocalBitbucket
let root: string
let backupDir: string
let sourceAuth: string
const started: LocalBitbucket[] = []

async function freshDestination(options: { scopes?: string[]; groups?: boolean } = {}) {
  const destination = await startDestination(options)
  started.push(destination.bb)
  return destination
}

const restore = (destination: Destination, args: string[] = []) =>
  restoreInto(destination, backupDir, args)

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
    expect(todo).toContain('acme/meta: re-enter secured variable TOKEN (repository) [RS009]')
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
      'pull request #1 was not reopened: feature/open → main is open there already [RS010]'
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
        /^ {2}acme\/meta: not restored: group developers permission \(read\): the destination workspace has no group developers; create it, then restore again with overwrite \(HTTP 404\) \[RS010\]$/
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
