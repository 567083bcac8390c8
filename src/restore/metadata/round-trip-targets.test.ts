// The round trip of issue 16's Done-when through the two targets round-trip.test.ts does not take:
// buildMetadataFixture's repository backed up with its settings and Downloads to the github target
// (its biggest Download over github-file-size-limit, so it travels as a release asset) and to the
// artifact target, then restored from each by the command line into a fresh local Bitbucket, where
// every restorable setting and every Download must read back as the original's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { downloadRunArtifacts, inRunnerJob } from '../../../testkit/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from '../../../testkit/bitbucket/index.js'
import { ALL_API_TOKEN_SCOPES, basic } from '../../../testkit/bitbucket/metadata-client.js'
import { buildMetadataFixture } from '../../../testkit/bitbucket/metadata-fixture.js'
import { startLocalGitHub, type LocalGitHub } from '../../../testkit/github/index.js'
import { backUpInProcess } from '../../../testkit/in-process-backup.js'
import {
  metaRepository,
  freshDestination,
  restoreInto,
  type Destination
} from '../../../testkit/metadata-restore.js'
import { startResultsService, type ResultsService } from '../../../testkit/results-service/index.js'

const EMAIL = 'alice@example.com'
const TOKEN = 'ATATT3xFfGF0targets-round-trip-secret'
const GITHUB_TOKEN = 'ghp_targets0round0trip0secret0000000000'
const MIRRORS = 'acme-mirrors'
const METADATA = 'pull-requests, downloads, settings'

let source: LocalBitbucket
let gh: LocalGitHub
let rs: ResultsService
let root: string
const destinations: Destination[] = []

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'metadata-round-trip-'))
  source = await startLocalBitbucket()
  await buildMetadataFixture(source)
  source.addApiToken({
    email: EMAIL,
    username: 'alice',
    token: TOKEN,
    scopes: ALL_API_TOKEN_SCOPES
  })
  gh = await startLocalGitHub()
  gh.addOrganization(MIRRORS)
  gh.addToken({ token: GITHUB_TOKEN, login: 'backup-bot', kind: 'pat', canCreateIn: [MIRRORS] })
  rs = await startResultsService()
}, 90_000)

afterAll(async () => {
  await source?.close()
  await gh?.close()
  await rs?.close()
  for (const destination of destinations) await destination.bb.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

/** Backs up the fixture's repository `meta` with its metadata to a target; it must be backed up. */
async function backUp(name: string, target: Record<string, string>) {
  const run = await backUpInProcess(source, path.join(root, name), {
    workspace: 'acme',
    'bitbucket-email': EMAIL,
    'bitbucket-api-token': TOKEN,
    metadata: METADATA,
    include: 'meta',
    ...target
  })
  expect(run.results.map(result => [result.slug, result.status])).toEqual([['meta', 'backed-up']])
  return run
}

/** Restores `from` into a fresh Bitbucket and compares git, settings and Downloads with the source. */
async function restoreAndCompare(from: string, args: string[], env: Record<string, string> = {}) {
  const destination = await freshDestination()
  destinations.push(destination)
  Object.assign(destination.env, env)
  const restored = await restoreInto(destination, from, ['--repositories', 'meta', ...args])
  expect(restored.output).toMatch(/1 restored, 0 failed/)
  expect(restored.code).toBe(0)
  expect(restored.output).not.toContain(GITHUB_TOKEN)
  const original = await metaRepository(source, basic(EMAIL, TOKEN), 'acme')
  expect(Object.keys(original.downloads)).toContain('release-1.0.tar.gz')
  // Git, every restorable setting and every Download's bytes, as the original has them.
  expect(await metaRepository(destination.bb, destination.auth, 'reborn')).toEqual(original)
  // The secrets Bitbucket never returns are named for re-entry, whichever target kept the backup.
  expect(restored.output).toContain('re-enter secured variable TOKEN (repository)')
  return restored
}

describe('settings and Downloads through each target, restored into a fresh Bitbucket', () => {
  it('through the github target, the big Download travelling as a release asset', async () => {
    const run = await backUp('github', {
      target: 'github',
      'github-token': GITHUB_TOKEN,
      'github-owner': MIRRORS,
      'github-api-url': gh.apiUrl,
      'github-file-size-limit': '1MB'
    })
    expect(run.results[0].detail).toContain('kept as release assets')
    const release = gh.releases(MIRRORS, 'meta')
    expect(release.flatMap(r => r.assets.map(asset => asset.name))).toContain('release-1.0.tar.gz')
    await restoreAndCompare(`github:${MIRRORS}`, ['--github-api-url', gh.apiUrl], {
      GITHUB_TOKEN
    })
  }, 180_000)

  it('through the artifact target', async () => {
    await inRunnerJob(rs, 91, path.join(root, 'artifact'), () =>
      backUp('artifact', { target: 'artifact' })
    )
    const { dir } = await downloadRunArtifacts(rs, 91, root)
    await restoreAndCompare(dir, [])
  }, 180_000)
})
