// End to end on Node 24: a change in how artifacts are protected (encryption turned on, a recipient
// or passphrase rotated) uploads every repository again, so nothing stays plain or under a retired key.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Decrypter } from 'age-encryption'
import { createGit } from '../src/git/git.js'
import { WRAPPED_IDENTITY_FILE } from '../src/targets/artifact/encryption.js'
import { restoreFromArtifactFolder, type DecryptionKeys } from '../src/targets/artifact/restore.js'
import { runAction, type ActionRun } from '../testkit/action-runner.js'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { workingCopy } from '../testkit/bitbucket/fixtures.js'
import { refsOf } from '../testkit/git-inspect.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'
import { scanBytes, scanCacheArchive, scanTree, secretForms } from '../testkit/secret-scan.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0protection-e2e-secret'
const README_SCOPES = [
  'read:repository:bitbucket',
  'read:workspace:bitbucket',
  'read:pullrequest:bitbucket'
]
const SLUGS = ['alpha', 'beta', 'gamma']
const REPOSITORY_ARTIFACTS = SLUGS.map(slug => `bitbucket-acme-${slug}`)
const PASSPHRASE_1 = 'first-passphrase-correct-horse-41'
const PASSPHRASE_2 = 'second-passphrase-battery-staple-42'
/** Plain text inside each repository's LFS object, which artifacts store uncompressed. */
const marker = (slug: string) => `PLAINTEXT-MARKER-${slug}-`

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 1100
const runs: ActionRun[] = []
const forms = [...secretForms(PASSPHRASE_1), ...secretForms(PASSPHRASE_2)]
const leaks: ReturnType<typeof scanBytes> = []
let keyA: AgeKey
let keyB: AgeKey

/** A brand-new runner at the same path, as on GitHub-hosted runners; only the cache carries over. */
async function freshRunnerBackup(protection: Record<string, string>): Promise<number> {
  runId++
  const runnerDir = path.join(base, 'runner')
  fs.rmSync(runnerDir, { recursive: true, force: true })
  fs.mkdirSync(runnerDir)
  const run = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'artifact',
      ...protection
    },
    {
      runnerDir,
      env: rs.env({
        runId,
        jobId: 'backup',
        runnerTemp: path.join(runnerDir, 'temp'),
        workspace: path.join(runnerDir, 'workspace')
      })
    }
  )
  runs.push(run)
  leaks.push(...scanTree(runnerDir, forms).leaks)
  expect(run.stdout).not.toMatch(/^::(error|warning)/m)
  expect(run.exitCode).toBe(0)
  return runId
}

const artifactsOf = (id: number) => rs.artifacts.filter(artifact => artifact.runId === String(id))
const namesOf = (id: number) =>
  artifactsOf(id)
    .map(artifact => artifact.name)
    .sort()

/** Whether the repository's marker is in the bytes of the artifact its run uploaded for it. */
async function markerReadable(id: number, slug: string): Promise<boolean> {
  const record = artifactsOf(id).find(artifact => artifact.name === `bitbucket-acme-${slug}`)!
  const bytes = await rs.blobs.read(record.container, record.blob)
  return bytes.includes(Buffer.from(marker(slug)))
}

/** Every file of the run's downloaded artifacts, and the folder each repository is in. */
async function downloaded(id: number) {
  const { dir } = await downloadRunArtifacts(rs, id, base)
  const files = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(entry => entry.isFile())
    .map(entry => path.join(entry.parentPath, entry.name))
  const folder = (slug: string) => path.join(dir, `bitbucket-acme-${slug}`, 'acme', slug)
  return { dir, files, folder }
}

/** Restores repositories from the run's artifacts with `keys` and compares them with upstream. */
async function restoreAndCompare(id: number, decryption: DecryptionKeys, slugs = SLUGS) {
  const { dir, folder } = await downloaded(id)
  for (const slug of slugs) {
    const destination = path.join(dir, 'restored', `${slug}.git`)
    await restoreFromArtifactFolder(createGit(), folder(slug), destination, decryption)
    expect(refsOf(destination)).toEqual(refsOf(bb.repository('acme', slug)!.gitDir))
  }
}

const ageOpens = (keyFile: string, file: string) =>
  spawnSync('age', ['-d', '-i', keyFile, file], { stdio: 'ignore' }).status === 0

interface AgeKey {
  file: string
  identity: string
  recipient: string
}

function ageKey(name: string): AgeKey {
  const file = path.join(base, `${name}.key`)
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' })
  const identity = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .find(line => line.startsWith('AGE-SECRET-KEY-'))!
  const recipient = execFileSync('age-keygen', ['-y', file]).toString().trim()
  return { file, identity, recipient }
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-protection-e2e-'))
  rs = await startResultsService()
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  // The scopes README asks for, pull requests included (metadata: pull-requests, downloads).
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN, scopes: README_SCOPES })
  for (const slug of SLUGS) {
    bb.addRepository('acme', slug)
    const wc = await workingCopy(bb, 'acme', slug)
    wc.write('README.md', `# ${slug}\n`)
    wc.writeLfs('notes.bin', Buffer.from(marker(slug).repeat(40)))
    await wc.commit('first')
    await wc.push()
  }
  keyA = ageKey('a')
  keyB = ageKey('b')
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('a change in how artifacts are protected', () => {
  let recipientRunA: number

  it('a plain backup stores each repository readable, as the marker check expects', async () => {
    const id = await freshRunnerBackup({})
    expect(namesOf(id)).toEqual([...REPOSITORY_ARTIFACTS, 'bitbucket-backup-index'])
    for (const slug of SLUGS) expect(await markerReadable(id, slug)).toBe(true)
  }, 120_000)

  it('turning encryption-recipients on uploads every repository again, with nothing readable', async () => {
    recipientRunA = await freshRunnerBackup({ 'encryption-recipients': keyA.recipient })
    expect(namesOf(recipientRunA)).toEqual([...REPOSITORY_ARTIFACTS, 'bitbucket-backup-index'])
    for (const slug of SLUGS) expect(await markerReadable(recipientRunA, slug)).toBe(false)
    const { files } = await downloaded(recipientRunA)
    expect(files.filter(file => !file.endsWith('.age'))).toEqual([])
    await restoreAndCompare(recipientRunA, { identities: [keyA.identity] })
  }, 120_000)

  it('a run with the same recipient uploads nothing but the index', async () => {
    const id = await freshRunnerBackup({ 'encryption-recipients': keyA.recipient })
    expect(namesOf(id)).toEqual(['bitbucket-backup-index'])
  }, 120_000)

  it('rotating to another recipient uploads every repository again, and the old key opens none of it', async () => {
    const id = await freshRunnerBackup({ 'encryption-recipients': keyB.recipient })
    expect(namesOf(id)).toEqual([...REPOSITORY_ARTIFACTS, 'bitbucket-backup-index'])
    const { files } = await downloaded(id)
    expect(files.filter(file => !file.endsWith('.age'))).toEqual([])
    expect(files.filter(file => ageOpens(keyA.file, file))).toEqual([])
    expect(files.filter(file => !ageOpens(keyB.file, file))).toEqual([])
    // The check that key A fails is meaningful: it opens what was encrypted to it.
    expect((await downloaded(recipientRunA)).files.every(file => ageOpens(keyA.file, file))).toBe(
      true
    )
    await restoreAndCompare(id, { identities: [keyB.identity] })
  }, 120_000)

  it('switching to a passphrase uploads every repository again, with nothing readable', async () => {
    const id = await freshRunnerBackup({ 'encryption-passphrase': PASSPHRASE_1 })
    expect(namesOf(id)).toEqual([...REPOSITORY_ARTIFACTS, 'bitbucket-backup-index'])
    for (const slug of SLUGS) expect(await markerReadable(id, slug)).toBe(false)
    const { files } = await downloaded(id)
    expect(files.filter(file => !file.endsWith('.age'))).toEqual([])
    // Each passphrase check costs a deliberately slow scrypt: one repository shows it opens.
    await restoreAndCompare(id, { passphrase: PASSPHRASE_1 }, ['alpha'])
  }, 120_000)

  it('the same passphrase again uploads nothing but the index: the canary in the state knows it', async () => {
    const id = await freshRunnerBackup({ 'encryption-passphrase': PASSPHRASE_1 })
    expect(namesOf(id)).toEqual(['bitbucket-backup-index'])
  }, 120_000)

  it('another passphrase uploads every repository again, and the old passphrase opens none of it', async () => {
    const id = await freshRunnerBackup({ 'encryption-passphrase': PASSPHRASE_2 })
    expect(namesOf(id)).toEqual([...REPOSITORY_ARTIFACTS, 'bitbucket-backup-index'])
    const { files } = await downloaded(id)
    expect(files.filter(file => !file.endsWith('.age'))).toEqual([])
    // Files are encrypted to the run's identity: whoever cannot unwrap it can open nothing.
    const wrapped = new Set(
      files
        .filter(file => path.basename(file) === WRAPPED_IDENTITY_FILE)
        .map(file => fs.readFileSync(file).toString('base64'))
    )
    expect(wrapped.size).toBeGreaterThan(0)
    for (const identity of wrapped) {
      const decrypter = new Decrypter()
      decrypter.addPassphrase(PASSPHRASE_1)
      await expect(decrypter.decrypt(Buffer.from(identity, 'base64'))).rejects.toThrow()
    }
    await restoreAndCompare(id, { passphrase: PASSPHRASE_2 }, ['beta'])
  }, 120_000)

  it('no passphrase in the state, any cache entry, the runner files, the logs or the outputs', async () => {
    const stateEntries = rs.cacheEntries.filter(entry =>
      entry.key.startsWith('bitbucket-backup-state:')
    )
    expect(stateEntries.length).toBeGreaterThan(0)
    for (const entry of rs.cacheEntries) {
      leaks.push(
        ...scanCacheArchive(entry.key, await rs.blobs.read(entry.container, entry.blob), forms)
      )
    }
    for (const [i, run] of runs.entries()) {
      // The runner masks secrets itself: ::add-mask:: is how it learns them.
      const stdout = run.stdout.replace(/^::add-mask::.*$/gm, '')
      leaks.push(...scanBytes(`stdout ${i}`, Buffer.from(stdout + run.stderr + run.summary), forms))
      leaks.push(...scanBytes(`outputs ${i}`, Buffer.from(JSON.stringify(run.outputs)), forms))
    }
    expect(leaks).toEqual([])
  }, 60_000)
})
