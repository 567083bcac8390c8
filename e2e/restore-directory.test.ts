// Round trip through the directory target: back up a rich workspace as the runner does, then bring it
// back with the restore command line (`node dist/index.js restore`), now and at a point in time.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { projectRoot, runAction } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { refsOf } from '../testkit/git-inspect.js'
import {
  backUpRoundTrip,
  createRoundTripWorkspace,
  expectRestoredAsSource,
  restoreIntoFreshBitbucket,
  ROUND_TRIP_SLUGS,
  runCli,
  type RoundTripFixture
} from '../testkit/round-trip.js'

let bb: LocalBitbucket
let fixture: RoundTripFixture
let root: string
const backupDir = () => path.join(root, 'runner', 'workspace', 'backup')

async function backup(extra: Record<string, string> = {}, exitCode = 0) {
  const run = await backUpRoundTrip(
    bb,
    {
      target: 'directory',
      'backup-dir': 'backup',
      ...extra
    },
    { runnerDir: path.join(root, 'runner'), env: { RUNNER_ENVIRONMENT: 'self-hosted' } }
  )
  expect(run.exitCode).toBe(exitCode)
  return run
}

const verify = (args: string[]) => runCli(['verify', ...args])
const restore = (args: string[], env: Record<string, string> = {}) =>
  runCli(['restore', ...args], env)

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-dir-'))
  bb = await startLocalBitbucket()
  fixture = await createRoundTripWorkspace(bb, 'acme')
  await backup()
}, 180_000)

afterAll(async () => {
  await bb?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('restoring the directory target with the command line', () => {
  it('brings every repository back bit for bit: refs, objects, LFS', async () => {
    const destination = path.join(root, 'restored')
    const result = await restore([
      '--from',
      backupDir(),
      '--to',
      `${destination}/{workspace}/{slug}.git`
    ])
    expect(result.output).toMatch(/4 restored, 0 failed/)
    expect(result.code).toBe(0)
    const figures = ROUND_TRIP_SLUGS.map(slug =>
      expectRestoredAsSource(bb, 'acme', slug, path.join(destination, 'acme', `${slug}.git`))
    )
    expect(figures.map(figure => figure.refs)).toEqual([
      expect.any(Number),
      1,
      expect.any(Number),
      0
    ])
    expect(figures[0].lfs).toBe(3)
    expect(figures[2].refs).toBeGreaterThan(2000)
  })

  it('refuses a destination that is not empty unless told to overwrite', async () => {
    const destination = path.join(root, 'restored')
    const refused = await restore([
      '--from',
      backupDir(),
      '--to',
      `${destination}/{workspace}/{slug}.git`,
      '--repositories',
      'rich'
    ])
    expect(refused.code).toBe(1)
    expect(refused.output).toMatch(/rich\.git is not empty \(\d+ refs\).*--overwrite/)
    const allowed = await restore([
      '--from',
      backupDir(),
      '--to',
      `${destination}/{workspace}/{slug}.git`,
      '--repositories',
      'rich',
      '--overwrite'
    ])
    expect(allowed.code).toBe(0)
  })

  it('restores into a fresh Bitbucket workspace: every repository created with its project, privacy and description, then identical', async () => {
    const { figures } = await restoreIntoFreshBitbucket(bb, 'acme', ['--from', backupDir()])
    expect(figures[0].lfs).toBe(3)
    expect(figures[2].refs).toBeGreaterThan(2000)
  })

  it('restores a repository as it was before a force-push, a branch deletion and a fast-forward upstream', async () => {
    const before = refsOf(bb.repository('acme', 'rich')!.gitDir)
    await new Promise(resolve => setTimeout(resolve, 1100))
    const pointInTime = new Date().toISOString()
    await new Promise(resolve => setTimeout(resolve, 1100))
    await fixture.rich.run(['reset', '-q', '--hard', 'HEAD'])
    fixture.rich.write('rewritten.txt', 'history rewritten\n')
    await fixture.rich.run(['add', '-A'])
    await fixture.rich.run(['commit', '-q', '--amend', '-m', 'rewritten first commit'])
    await fixture.rich.push({ force: true })
    await fixture.rich.deleteBranch('release/1.0+build.7')
    // A fast-forward leaves no trace in the history namespace: only the ref journal knows the old tip.
    await fixture.rich.checkout('feature/ünïcödé+plus')
    fixture.rich.write('later.txt', 'a commit after the point in time\n')
    await fixture.rich.commit('later')
    await fixture.rich.push()
    await fixture.rich.checkout('main')
    expect(refsOf(bb.repository('acme', 'rich')!.gitDir)).not.toEqual(before)
    await backup()

    const then = path.join(root, 'then')
    const result = await restore([
      '--from',
      backupDir(),
      '--to',
      `${then}/{slug}.git`,
      '--repositories',
      'rich',
      '--at',
      pointInTime
    ])
    expect(result.code).toBe(0)
    expect(refsOf(path.join(then, 'rich.git'))).toEqual(before)
    // Then, the deleted branch still held the third LFS object.
    expect(result.output).toMatch(/acme\/rich: restored to .*, 3 LFS objects\)/)

    const now = path.join(root, 'now')
    const latest = await restore([
      '--from',
      backupDir(),
      '--to',
      `${now}/{slug}.git`,
      '--repositories',
      'rich'
    ])
    expect(latest.code).toBe(0)
    expectRestoredAsSource(bb, 'acme', 'rich', path.join(now, 'rich.git'))
    // Now no restored ref reaches it: it is counted no more (still copied, as the backup holds it).
    expect(latest.output).toMatch(/acme\/rich: restored to .*, 2 LFS objects\)/)
  })

  it('the restore action, run as the runner runs it, restores a directory backup too', async () => {
    const destination = path.join(root, 'by-action')
    const run = await runAction(
      {
        from: backupDir(),
        to: `${destination}/{slug}.git`,
        repositories: 'rich, many',
        overwrite: 'false'
      },
      { entry: path.join(projectRoot, 'restore', 'index.js') }
    )
    expect(run.stdout).toMatch(/Restoring 2 repositories/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toEqual({ restored: '2', failed: '0' })
    expect(run.summary).toMatch(/acme\/rich/)
    for (const slug of ['rich', 'many']) {
      expectRestoredAsSource(bb, 'acme', slug, path.join(destination, `${slug}.git`))
    }
  })

  it('explains its usage and takes no secret from the command line', async () => {
    const result = await restore(['--from', backupDir()])
    expect(result.code).toBe(2)
    expect(result.output).toMatch(/give exactly one of --to, --bitbucket-workspace, --github-owner/)
    expect(result.output).toMatch(/Secrets \(environment only\)/)
  })

  it('names the missing write scope when Bitbucket refuses the push', async () => {
    const destination = await startLocalBitbucket()
    try {
      destination.createWorkspace('reborn')
      const token = 'ATATT3xFfGF0restore-no-write-scope'
      destination.addApiToken({
        email: 'restorer@example.com',
        username: 'restorer',
        token,
        scopes: ['read:repository:bitbucket', 'admin:repository:bitbucket']
      })
      const result = await restore(
        [
          ...['--from', backupDir(), '--repositories', 'deep'],
          ...['--bitbucket-workspace', 'reborn', '--bitbucket-api-url', destination.apiUrl]
        ],
        { BITBUCKET_EMAIL: 'restorer@example.com', BITBUCKET_API_TOKEN: token }
      )
      expect(result.code).toBe(1)
      expect(result.output).toMatch(
        /acme\/deep: failed: Bitbucket refused the push \(HTTP 403\): give the credential write:repository:bitbucket .*; git push failed: .*403/
      )
      expect(result.output).not.toContain(token)
    } finally {
      await destination.close()
    }
  })

  it('refuses a destination URL with a password in it, without printing it', async () => {
    const result = await restore([
      '--from',
      backupDir(),
      '--to',
      'http://restorer:url-secret-pw@127.0.0.1:1/{slug}.git'
    ])
    expect(result.code).toBe(2)
    expect(result.output).toMatch(/RESTORE_GIT_USERNAME \+ RESTORE_GIT_PASSWORD/)
    expect(result.output).not.toContain('url-secret-pw')
  })
})

describe('verifying a backup', () => {
  /** Flips one byte in the middle of a file, as a failing disk would. */
  const damage = (file: string) => {
    const bytes = fs.readFileSync(file)
    bytes[Math.floor(bytes.length / 2)] ^= 0xff
    fs.chmodSync(file, 0o644)
    fs.writeFileSync(file, bytes)
  }

  it('finds an intact backup intact', async () => {
    const result = await verify(['--from', backupDir()])
    expect(result.output).toMatch(/4 intact, 0 damaged/)
    expect(result.code).toBe(0)
  })

  it('names the damaged object and the damaged LFS file, and fails', async () => {
    const copy = path.join(root, 'damaged')
    fs.cpSync(backupDir(), copy, { recursive: true })
    const deepPacks = path.join(copy, 'acme', 'deep.git', 'objects', 'pack')
    const pack = fs.readdirSync(deepPacks).find(name => name.endsWith('.pack'))!
    damage(path.join(deepPacks, pack))
    const lfsRoot = path.join(copy, 'acme', 'rich.git', 'lfs', 'objects')
    const lfsFile = fs
      .readdirSync(lfsRoot, { recursive: true, withFileTypes: true })
      .find(entry => entry.isFile())!
    damage(path.join(lfsFile.parentPath, lfsFile.name))

    const result = await verify(['--from', copy])
    expect(result.code).toBe(1)
    expect(result.output).toMatch(/2 intact, 2 damaged/)
    expect(result.output).toMatch(/acme\/deep: DAMAGED: git fsck: /)
    expect(result.output).toContain(`acme/rich: DAMAGED: LFS object ${lfsFile.name}`)
  })

  it('with verify: true, a backup run reads every mirror back and fails the damaged one', async () => {
    const intact = await backup({ verify: 'true' })
    expect(intact.stdout).toMatch(/Verified 4 mirrors: 4 intact, 0 damaged/)
    const packs = path.join(backupDir(), 'acme', 'deep.git', 'objects', 'pack')
    damage(
      path.join(
        packs,
        fs.readdirSync(packs).find(name => name.endsWith('.pack'))!
      )
    )
    const run = await backup({ verify: 'true' }, 1)
    expect(run.outputs.failed).toBe('1')
    expect(run.stdout).toMatch(/::error::acme\/deep: verification found damage: git fsck: .*pack/)
  })
})
