// The restore-by-hand guide (docs/restore.md, once in the README), run as written (only names and the
// push URL substituted): an encrypted artifact decrypted with the age CLI, checked with sha256sum,
// rebuilt and pushed with git.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { configEnv, lfsOids } from '../testkit/bitbucket/fixtures.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { refsOf } from '../testkit/git-inspect.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'
import { docShellBlocks, runShellBlock } from '../testkit/readme.js'
import { backUpRoundTrip, createRoundTripWorkspace } from '../testkit/round-trip.js'

let bb: LocalBitbucket
let rs: ResultsService
let base: string

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-readme-'))
  bb = await startLocalBitbucket()
  rs = await startResultsService()
  await createRoundTripWorkspace(bb, 'acme')
}, 180_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('docs/restore.md: restore a repository from an artifact, by hand', () => {
  it('works as written with age, jq, sha256sum, git and git-lfs', async () => {
    const home = path.join(base, 'home')
    fs.mkdirSync(home)
    execFileSync('age-keygen', ['-o', path.join(home, 'backup-key.txt')], { stdio: 'ignore' })
    const recipient = execFileSync('age-keygen', ['-y', path.join(home, 'backup-key.txt')])
      .toString()
      .trim()
    const runnerDir = path.join(base, 'runner')
    const run = await backUpRoundTrip(
      bb,
      { target: 'artifact', include: 'rich', 'encryption-recipients': recipient },
      {
        runnerDir,
        env: rs.env({
          runId: 5,
          jobId: 'backup',
          runnerTemp: path.join(runnerDir, 'temp'),
          workspace: path.join(runnerDir, 'workspace')
        })
      }
    )
    expect(run.exitCode).toBe(0)
    // Step 2 (gh run download --name bitbucket-acme-rich --dir restore), with the real client.
    const { dir } = await downloadRunArtifacts(rs, 5, base)
    const user = path.join(base, 'user')
    fs.mkdirSync(user)
    fs.renameSync(path.join(dir, 'bitbucket-acme-rich'), path.join(user, 'restore'))
    bb.addRepository('acme', 'restored')

    const blocks = docShellBlocks('docs/restore.md', 'Restore a repository from an artifact')
    expect(blocks).toHaveLength(3)
    // Recipients, not a passphrase: the key file is already where the unwrap step would put it.
    const substituted = blocks.map(block =>
      block
        .split('\n')
        .filter(line => !line.includes('identity.age'))
        .join('\n')
        .replaceAll('https://bitbucket.org/my-workspace/api.git', `${bb.origin}/acme/restored.git`)
        .replaceAll('my-workspace', 'acme')
        .replaceAll('api.bundle', 'rich.bundle')
        .replaceAll('api.git', 'rich.git')
        .replaceAll('/api', '/rich')
    )
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      // The user's own git credential, as their credential helper would give it.
      ...configEnv([
        ['credential.helper', ''],
        [`http.${bb.origin}/.extraheader`, `Authorization: ${bb.adminAuthorization}`]
      ])
    }
    for (const script of substituted) await runShellBlock(script, user, env)
    const restored = bb.repository('acme', 'restored')!.gitDir
    expect(refsOf(restored)).toEqual(refsOf(bb.repository('acme', 'rich')!.gitDir))
    expect(lfsOids(bb, 'acme', 'restored')).toEqual(lfsOids(bb, 'acme', 'rich'))
    expect(lfsOids(bb, 'acme', 'rich').size).toBe(3)
  }, 180_000)
})

/** The user's own git credential for the local Bitbucket, as their credential helper would give it. */
const userGitEnv = (home: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: home,
  ...configEnv([
    ['credential.helper', ''],
    [`http.${bb.origin}/.extraheader`, `Authorization: ${bb.adminAuthorization}`]
  ])
})

describe('docs/restore.md: restore a directory backup by hand', () => {
  it('pushes a mirror as it is, with every ref and LFS object', async () => {
    const runnerDir = path.join(base, 'directory-runner')
    const run = await backUpRoundTrip(
      bb,
      { target: 'directory', 'backup-dir': 'backup', include: 'rich, many' },
      { runnerDir, env: { RUNNER_ENVIRONMENT: 'self-hosted' } }
    )
    expect(run.exitCode).toBe(0)
    const backupDir = path.join(runnerDir, 'workspace', 'backup')
    const [block] = docShellBlocks('docs/restore.md', 'By hand, with only git, git-lfs (and age)')
    for (const slug of ['rich', 'many']) {
      bb.addRepository('acme', `${slug}-by-hand`, { empty: true })
      const script = block
        .replaceAll(
          'https://bitbucket.org/my-workspace/api.git',
          `${bb.origin}/acme/${slug}-by-hand.git`
        )
        .replaceAll(
          '/srv/bitbucket-backup/my-workspace/api.git',
          path.join(backupDir, 'acme', `${slug}.git`)
        )
      await runShellBlock(script, base, userGitEnv(base))
      expect(refsOf(bb.repository('acme', `${slug}-by-hand`)!.gitDir)).toEqual(
        refsOf(bb.repository('acme', slug)!.gitDir)
      )
      expect(lfsOids(bb, 'acme', `${slug}-by-hand`)).toEqual(lfsOids(bb, 'acme', slug))
    }
    expect(lfsOids(bb, 'acme', 'rich-by-hand').size).toBe(3)
  }, 180_000)
})
