// The workspace every restore round trip backs up and brings back: an empty repository, thousands of
// refs, unicode and `+` in ref names, notes, LFS objects on several branches and a deep history; and
// the comparison that says a restored repository is the source, bit for bit.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  entryToRun,
  node24Binary,
  runAction,
  type ActionRun,
  type ActionRunOptions
} from './action-runner.js'
import { lfsOids, manyRefs, workingCopy, type WorkingCopy } from './bitbucket/fixtures.js'
import { startLocalBitbucket, type LocalBitbucket } from './bitbucket/index.js'
import { lfsObjectFile, refsOf, sha256File } from './git-inspect.js'

export const ROUND_TRIP_SLUGS = ['rich', 'deep', 'many', 'empty'] as const

/** The credential backups of the round-trip workspace read it with. */
export const SOURCE_EMAIL = 'jane@example.com'
export const SOURCE_TOKEN = 'ATATT3xFfGF0round-trip-source-secret'

/** The backup action as the runner runs it, over workspace `acme` with the source credential. */
export function backUpRoundTrip(
  bb: LocalBitbucket,
  inputs: Record<string, string>,
  options: ActionRunOptions = {}
): Promise<ActionRun> {
  return runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': SOURCE_EMAIL,
      'bitbucket-api-token': SOURCE_TOKEN,
      cache: 'false',
      ...inputs
    },
    options
  )
}

/** Commits made with fast-import: thousands in well under a second. */
async function deepHistory(wc: WorkingCopy, commits: number): Promise<void> {
  const lines: string[] = []
  for (let i = 1; i <= commits; i++) {
    const text = `line ${i}\n`
    lines.push(
      'commit refs/heads/main',
      `committer Deep <deep@fixtures.example> ${1767225600 + i} +0000`,
      `data ${`commit ${i}`.length}`,
      `commit ${i}`,
      `M 644 inline history/file-${i % 50}.txt`,
      `data ${Buffer.byteLength(text)}`,
      text.trimEnd(),
      ''
    )
  }
  await wc.run(['fast-import', '--quiet'], `${lines.join('\n')}\n`)
  await wc.run(['reset', '-q', '--hard', 'main'])
}

export interface RoundTripFixture {
  rich: WorkingCopy
}

export async function createRoundTripWorkspace(
  bb: LocalBitbucket,
  workspace: string
): Promise<RoundTripFixture> {
  bb.addApiToken({ email: SOURCE_EMAIL, username: 'jane', token: SOURCE_TOKEN })
  bb.createWorkspace(workspace)
  bb.addRepository(workspace, 'rich')
  // Metadata a restore into Bitbucket must carry over: another project, public, its own description.
  bb.addRepository(workspace, 'deep', {
    projectKey: 'OPS',
    isPrivate: false,
    description: 'Three thousand commits, public'
  })
  bb.addRepository(workspace, 'empty', { empty: true })
  const rich = await workingCopy(bb, workspace, 'rich')
  rich.write('README.md', '# rich\n')
  rich.writeLfs('assets/logo.bin', randomBytes(200_000))
  await rich.commit('first, with an LFS object')
  await rich.tag('v1.0', { annotated: true })
  await rich.tag('lightweight')
  await rich.checkout('feature/ünïcödé+plus', { create: true })
  rich.writeLfs('assets/feature.bin', randomBytes(150_000))
  await rich.commit('a second LFS object on a unicode branch')
  await rich.checkout('release/1.0+build.7', { create: true })
  rich.writeLfs('assets/release.bin', randomBytes(100_000))
  await rich.commit('a third LFS object on a branch with +')
  await rich.checkout('main')
  await rich.push()
  await rich.run(['notes', 'add', '-m', 'reviewed by the fixture', 'HEAD'])
  await rich.run(['push', '-q', 'origin', 'refs/notes/*:refs/notes/*'])

  const deep = await workingCopy(bb, workspace, 'deep')
  await deepHistory(deep, 3000)
  await deep.push()

  await manyRefs(bb, workspace, 'many', 2000)
  return { rich }
}

/** The backup action's inputs that back `workspace` up into artifacts with an API token. */
export function artifactBackupInputs(
  bb: LocalBitbucket,
  workspace: string,
  credentials: { email: string; token: string }
): Record<string, string> {
  return {
    workspace,
    'bitbucket-api-url': bb.apiUrl,
    'bitbucket-email': credentials.email,
    'bitbucket-api-token': credentials.token,
    target: 'artifact'
  }
}

/** Every ref (the backup's own history namespace aside) and every LFS object of the source. */
export function expectRestoredAsSource(
  bb: LocalBitbucket,
  workspace: string,
  slug: string,
  restored: string
): { refs: number; lfs: number } {
  const source = bb.repository(workspace, slug)!.gitDir
  const sourceRefs = refsOf(source)
  const restoredRefs = refsOf(restored).filter(line => !line.includes(' refs/backup/'))
  if (JSON.stringify(restoredRefs) !== JSON.stringify(sourceRefs)) {
    const missing = sourceRefs.filter(line => !restoredRefs.includes(line))
    const extra = restoredRefs.filter(line => !sourceRefs.includes(line))
    throw new Error(
      `${slug}: refs differ (${missing.length} missing, e.g. ${missing[0]}; ${extra.length} extra, e.g. ${extra[0]})`
    )
  }
  if (sourceRefs.length > 0) {
    execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: restored, stdio: 'pipe' })
  }
  const oids = lfsOids(bb, workspace, slug)
  for (const oid of oids) {
    const file = lfsObjectFile(restored, oid)
    if (!fs.existsSync(file) || sha256File(file) !== oid) {
      throw new Error(
        `${slug}: LFS object ${oid} is missing or damaged in ${path.basename(restored)}`
      )
    }
  }
  return { refs: sourceRefs.length, lfs: oids.size }
}

export interface CliRun {
  code: number | null
  output: string
}

/**
 * `node dist/index.js <args>` as a user runs it, on Node 24 with the committed bundle. Never
 * synchronous: the stand-ins it talks to run in this process and must keep answering.
 */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(node24Binary(), [entryToRun().file, ...args], {
    env: { PATH: process.env.PATH, HOME: os.tmpdir(), NO_PROXY: '127.0.0.1,localhost', ...env }
  })
  let output = ''
  child.stdout.on('data', chunk => (output += chunk))
  child.stderr.on('data', chunk => (output += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  return { code, output }
}

/** The repository facts a restore into Bitbucket recreates. */
export type RepositoryFact = 'isPrivate' | 'projectKey' | 'description' | 'mainBranch'
export const ALL_FACTS: readonly RepositoryFact[] = [
  'isPrivate',
  'projectKey',
  'description',
  'mainBranch'
]

/** Every ref, every object (`git fsck`), every LFS object and the repository's metadata, compared. */
export function expectRestoredInBitbucket(
  source: LocalBitbucket,
  sourceWorkspace: string,
  destination: LocalBitbucket,
  destinationWorkspace: string,
  slug: string,
  compared: readonly RepositoryFact[] = ALL_FACTS
): { refs: number; lfs: number } {
  const original = source.repository(sourceWorkspace, slug)!
  const restored = destination.repository(destinationWorkspace, slug)
  if (!restored) throw new Error(`${slug}: not created in ${destinationWorkspace}`)
  const sourceRefs = refsOf(original.gitDir)
  const restoredRefs = refsOf(restored.gitDir)
  if (JSON.stringify(restoredRefs) !== JSON.stringify(sourceRefs)) {
    const missing = sourceRefs.filter(line => !restoredRefs.includes(line))
    throw new Error(`${slug}: refs differ (${missing.length} missing, e.g. ${missing[0]})`)
  }
  if (sourceRefs.length > 0) {
    execFileSync('git', ['fsck', '--strict', '--no-dangling'], {
      cwd: restored.gitDir,
      stdio: 'pipe'
    })
  }
  const oids = lfsOids(source, sourceWorkspace, slug)
  const restoredOids = lfsOids(destination, destinationWorkspace, slug)
  for (const oid of oids) {
    const file = path.join(restored.lfsDir, oid)
    if (!restoredOids.has(oid) || sha256File(file) !== oid) {
      throw new Error(`${slug}: LFS object ${oid} is missing or damaged in the restored repository`)
    }
  }
  const facts = (repository: typeof original) =>
    Object.fromEntries(compared.map(fact => [fact, repository[fact]]))
  if (JSON.stringify(facts(restored)) !== JSON.stringify(facts(original))) {
    throw new Error(
      `${slug}: created as ${JSON.stringify(facts(restored))}, not ${JSON.stringify(facts(original))}`
    )
  }
  return { refs: sourceRefs.length, lfs: oids.size }
}

export const RESTORE_EMAIL = 'restorer@example.com'
export const RESTORE_TOKEN = 'ATATT3xFfGF0restore-into-bitbucket-secret'

/** The workspace every restore into Bitbucket goes to. */
export const RESTORE_WORKSPACE = 'reborn'

/**
 * A fresh local Bitbucket with an empty RESTORE_WORKSPACE and an API token with the read, write and
 * admin scopes a restore needs (RESTORE_EMAIL / RESTORE_TOKEN).
 */
export async function startRestoreDestination(): Promise<LocalBitbucket> {
  const destination = await startLocalBitbucket()
  destination.createWorkspace(RESTORE_WORKSPACE)
  destination.addApiToken({
    email: RESTORE_EMAIL,
    username: 'restorer',
    token: RESTORE_TOKEN,
    scopes: [
      'read:repository:bitbucket',
      'write:repository:bitbucket',
      'admin:repository:bitbucket'
    ]
  })
  return destination
}

/**
 * Restores with the command line into a workspace of a fresh local Bitbucket (startRestoreDestination)
 * and compares every repository with the source.
 */
export async function restoreIntoFreshBitbucket(
  source: LocalBitbucket,
  sourceWorkspace: string,
  args: string[],
  env: Record<string, string> = {},
  slugs: readonly string[] = ROUND_TRIP_SLUGS,
  compared: readonly RepositoryFact[] = ALL_FACTS
): Promise<{ output: string; figures: { refs: number; lfs: number }[] }> {
  const destination = await startRestoreDestination()
  try {
    const run = await runCli(
      [
        'restore',
        ...args,
        '--bitbucket-workspace',
        RESTORE_WORKSPACE,
        '--bitbucket-api-url',
        destination.apiUrl
      ],
      { BITBUCKET_EMAIL: RESTORE_EMAIL, BITBUCKET_API_TOKEN: RESTORE_TOKEN, ...env }
    )
    if (run.code !== 0 || !run.output.includes(`${slugs.length} restored, 0 failed`)) {
      throw new Error(`restore into Bitbucket failed (exit ${run.code}):\n${run.output}`)
    }
    if (run.output.includes(RESTORE_TOKEN)) throw new Error('the restore printed its token')
    const figures = slugs.map(slug =>
      expectRestoredInBitbucket(
        source,
        sourceWorkspace,
        destination,
        RESTORE_WORKSPACE,
        slug,
        compared
      )
    )
    return { output: run.output, figures }
  } finally {
    await destination.close()
  }
}
