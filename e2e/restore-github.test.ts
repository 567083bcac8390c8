// Round trip through the github target: back up a rich workspace to mirrors on the local GitHub as the
// runner does, then restore from those mirrors (`--from github:<owner>`) into a fresh local Bitbucket.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { projectRoot, runAction } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { configEnv, lfsOids } from '../testkit/bitbucket/fixtures.js'
import { refsOf } from '../testkit/git-inspect.js'
import { startLocalGitHub, type LocalGitHub } from '../testkit/github/index.js'
import { docShellBlocks, runShellBlock } from '../testkit/readme.js'
import {
  backUpRoundTrip,
  createRoundTripWorkspace,
  expectRestoredAsSource,
  restoreIntoFreshBitbucket,
  ROUND_TRIP_SLUGS,
  runCli
} from '../testkit/round-trip.js'
import { scanBytes, scanTree, secretForms } from '../testkit/secret-scan.js'

const GITHUB_TOKEN = 'ghp_restore0github0round0trip0secret0'
const OWNER = 'acme-mirrors'

let bb: LocalBitbucket
let gh: LocalGitHub
let root: string

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-github-'))
  bb = await startLocalBitbucket()
  gh = await startLocalGitHub()
  gh.addOrganization(OWNER)
  gh.addToken({ token: GITHUB_TOKEN, login: 'backup-bot', kind: 'pat', canCreateIn: [OWNER] })
  await createRoundTripWorkspace(bb, 'acme')
  // Not a mirror the action made: a restore from the owner must leave it alone.
  gh.addRepository(OWNER, 'unrelated', { description: 'Someone else’s repository' })
  const run = await backUpRoundTrip(
    bb,
    {
      target: 'github',
      'github-token': GITHUB_TOKEN,
      'github-owner': OWNER,
      'github-api-url': gh.apiUrl
    },
    { runnerDir: path.join(root, 'backup-runner') }
  )
  expect(run.stdout).toMatch(/4 repositories: 3 backed up, 1 empty/)
  expect(run.exitCode).toBe(0)
}, 240_000)

afterAll(async () => {
  await bb?.close()
  await gh?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('restoring the github target', () => {
  it('brings every mirror back into a fresh Bitbucket with the command line, bit for bit', async () => {
    const { output, figures } = await restoreIntoFreshBitbucket(
      bb,
      'acme',
      ['--from', `github:${OWNER}`, '--github-api-url', gh.apiUrl],
      { GITHUB_TOKEN },
      ROUND_TRIP_SLUGS,
      // A mirror keeps the description and main branch; project and privacy are Bitbucket's own.
      ['description', 'mainBranch']
    )
    expect(figures[0].lfs).toBe(3)
    expect(figures[2].refs).toBeGreaterThan(2000)
    expect(output).not.toContain('unrelated')
    expect(output).not.toContain(GITHUB_TOKEN)
  })

  it('the restore action, run as the runner runs it, restores from the mirrors too, leaving no token behind', async () => {
    const destination = path.join(root, 'by-action')
    const run = await runAction(
      {
        from: `github:${OWNER}`,
        'github-token': GITHUB_TOKEN,
        'github-api-url': gh.apiUrl,
        to: `${destination}/{workspace}/{slug}.git`,
        repositories: 'rich, many'
      },
      { entry: path.join(projectRoot, 'restore', 'index.js') }
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toEqual({ restored: '2', failed: '0' })
    for (const slug of ['rich', 'many']) {
      expectRestoredAsSource(bb, 'acme', slug, path.join(destination, 'acme', `${slug}.git`))
    }
    expect(fs.existsSync(path.join(destination, 'acme', 'deep.git'))).toBe(false)
    const forms = secretForms(GITHUB_TOKEN, ['x-access-token'])
    expect(run.stdout).toContain(`::add-mask::${GITHUB_TOKEN}`)
    // ::add-mask:: lines are how the runner learns what to mask; it never prints them.
    const shown = run.stdout.replace(/^::add-mask::.*$/gm, '')
    const printed = Buffer.from(`${shown}${run.stderr}${run.summary}`)
    expect(scanBytes('the run', printed, forms)).toEqual([])
    const runner = scanTree(run.runnerDir, forms)
    expect(runner.files).toBeGreaterThan(0)
    expect(runner.leaks).toEqual([])
    expect(scanTree(destination, forms).leaks).toEqual([])
  })

  it('the by-hand commands of docs/restore.md bring a mirror back with only git and git-lfs', async () => {
    const [, block] = docShellBlocks('docs/restore.md', 'By hand, with only git, git-lfs (and age)')
    for (const slug of ['rich', 'many']) {
      bb.addRepository('acme', `${slug}-from-github`, { empty: true })
      const script = block
        .replaceAll(
          'https://github.com/my-org-mirrors/api.git',
          `${gh.origin}/${OWNER}/${slug}.git`
        )
        .replaceAll(
          'https://bitbucket.org/my-workspace/api.git',
          `${bb.origin}/acme/${slug}-from-github.git`
        )
        .replaceAll('api.git', `${slug}.git`)
      const work = fs.mkdtempSync(path.join(root, 'by-hand-'))
      await runShellBlock(script, work, {
        PATH: process.env.PATH,
        HOME: work,
        // The user's own credentials for both servers, as their credential helper would give them.
        ...configEnv([
          ['credential.helper', ''],
          [`http.${bb.origin}/.extraheader`, `Authorization: ${bb.adminAuthorization}`],
          [
            `http.${gh.origin}/.extraheader`,
            `Authorization: Basic ${Buffer.from(`x-access-token:${GITHUB_TOKEN}`).toString('base64')}`
          ]
        ])
      })
      expect(refsOf(bb.repository('acme', `${slug}-from-github`)!.gitDir)).toEqual(
        refsOf(bb.repository('acme', slug)!.gitDir)
      )
      expect(lfsOids(bb, 'acme', `${slug}-from-github`)).toEqual(lfsOids(bb, 'acme', slug))
    }
    expect(lfsOids(bb, 'acme', 'rich-from-github').size).toBe(3)
  })

  it('a mirror that cannot be cloned fails alone; the others are restored', async () => {
    const homepage = `${bb.origin}/acme/broken`
    const broken = gh.addRepository(OWNER, 'broken', {
      homepage,
      description: `Mirror of ${homepage}: its objects lost on disk`,
      fromGitDir: bb.repository('acme', 'deep')!.gitDir
    })
    // Refs without their objects: the server cannot send a pack.
    fs.rmSync(path.join(broken.gitDir, 'objects'), { recursive: true, force: true })
    fs.mkdirSync(path.join(broken.gitDir, 'objects'))
    const destination = path.join(root, 'partly')
    const run = await runCli(
      [
        'restore',
        '--from',
        `github:${OWNER}`,
        '--github-api-url',
        gh.apiUrl,
        '--repositories',
        'rich,broken',
        '--to',
        `${destination}/{workspace}/{slug}.git`
      ],
      { GITHUB_TOKEN }
    )
    expect(run.output).toMatch(/acme\/broken: mirror acme-mirrors\/broken could not be cloned: /)
    expect(run.output).toMatch(/1 restored, 1 failed/)
    expect(run.code).toBe(1)
    expectRestoredAsSource(bb, 'acme', 'rich', path.join(destination, 'acme', 'rich.git'))
    expect(fs.existsSync(path.join(destination, 'acme', 'broken.git'))).toBe(false)
  })

  it('says what is missing when the owner or the token is not given', async () => {
    const run = await runAction(
      { from: 'github:', 'github-token': GITHUB_TOKEN, to: `${root}/x/{slug}.git` },
      { entry: path.join(projectRoot, 'restore', 'index.js') }
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error::Input "from": "github:" needs an owner/)
  })
})
