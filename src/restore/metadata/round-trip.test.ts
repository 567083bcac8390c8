// The round trip of issue 16's Done-when: buildMetadataFixture's workspace backed up by the backup
// action itself (src/index.ts as the runner starts it, with settings, the directory target), then
// restored with the command line into a fresh local Bitbucket, and every restorable setting and
// every Download read back through the API equal to the original's. The archive is the one the real
// collection wrote, so the settings layout is checked from both of its sides.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { projectRoot, runAction, type ActionRun } from '../../../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../../../testkit/bitbucket/index.js'
import { ALL_API_TOKEN_SCOPES, basic } from '../../../testkit/bitbucket/metadata-client.js'
import { buildMetadataFixture } from '../../../testkit/bitbucket/metadata-fixture.js'
import {
  metaRepository,
  freshDestination,
  restoreInto,
  type Destination
} from '../../../testkit/metadata-restore.js'
import { ArchivePaths, METADATA_REF, type SettingsIndex } from '../../metadata/layout.js'

const EMAIL = 'alice@example.com'
const TOKEN = 'ATATT3xFfGF0restore-round-trip-secret'
/** The sources run as they are, through tsx: the bundle in dist/ is built at release time only. */
const TSX_LOADER = pathToFileURL(
  path.join(projectRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')
)

let source: LocalBitbucket
let destination: Destination | undefined
let backup: ActionRun
let backupDir: string

const mirror = () => path.join(backupDir, 'acme', 'meta.git')
const archived = (file: string) =>
  execFileSync('git', ['show', `${METADATA_REF}:${file}`], { cwd: mirror() }).toString()

beforeAll(async () => {
  source = await startLocalBitbucket()
  await buildMetadataFixture(source)
  source.addApiToken({
    email: EMAIL,
    username: 'alice',
    token: TOKEN,
    scopes: ALL_API_TOKEN_SCOPES
  })
  backup = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': source.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': TOKEN,
      target: 'directory',
      'backup-dir': 'backup',
      cache: 'false',
      metadata: 'pull-requests, downloads, settings'
    },
    {
      entry: path.join(projectRoot, 'src', 'index.ts'),
      env: { RUNNER_ENVIRONMENT: 'self-hosted', NODE_OPTIONS: `--import=${TSX_LOADER.href}` }
    }
  )
  backupDir = path.join(backup.workspaceDir, 'backup')
}, 240_000)

afterAll(async () => {
  await source?.close()
  await destination?.bb.close()
  if (backup?.runnerDir) fs.rmSync(backup.runnerDir, { recursive: true, force: true })
})

describe('a backup of the metadata fixture, restored into a fresh Bitbucket', () => {
  it('brings back every restorable setting and every Download as the backup found them', async () => {
    expect(backup.exitCode).toBe(0)
    // The archive is the real collection's: settings and their index beside the Downloads.
    const index = JSON.parse(archived(ArchivePaths.settingsIndex)) as SettingsIndex
    expect(index.secrets.webhooks.map(hook => hook.url)).toEqual(['https://ci.example.com/hook'])
    expect(archived(ArchivePaths.downloadsIndex)).toContain('release-1.0.tar.gz')

    destination = await freshDestination()
    const restored = await restoreInto(destination, backupDir, ['--repositories', 'meta'])
    expect(restored.output).toMatch(/1 restored, 0 failed/)
    expect(restored.code).toBe(0)
    const original = await metaRepository(source, basic(EMAIL, TOKEN), 'acme')
    expect(Object.keys(original.downloads).sort()).toEqual([
      'empty.bin',
      'notes.txt',
      'release-1.0.tar.gz'
    ])
    // Git, every restorable setting and every Download's bytes, as the original has them.
    expect(await metaRepository(destination.bb, destination.auth, 'reborn')).toEqual(original)

    // What the archive could not hold is what the checklist asks for, and nothing else is missing.
    const todo = restored.output.slice(restored.output.indexOf('To do by hand:'))
    expect(todo).toContain(
      'acme/meta: re-enter the secret of webhook https://ci.example.com/hook (CI)'
    )
    expect(todo).toContain('acme/meta: re-enter secured variable TOKEN (repository)')
    expect(todo).toContain(
      'acme/meta: re-enter secured variable DEPLOY_TOKEN (environment Production)'
    )
    expect(todo).toMatch(/acme\/meta: re-enter the pipelines SSH key pair/)
    expect(todo).not.toMatch(/not restored|was not in the backup/)
  }, 120_000)
})
