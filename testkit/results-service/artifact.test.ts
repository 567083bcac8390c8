// The real @actions/artifact v6 DefaultArtifactClient against the local results service + Azurite.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  applyEnv,
  captureToolkitOutput,
  hashTree,
  shortenRetryDelays,
  startResultsService,
  type ResultsService
} from './index.js'

type ArtifactModule = typeof import('@actions/artifact')

let rs: ResultsService
let artifact: ArtifactModule
let base: string
const cleanups: (() => void)[] = []

beforeAll(async () => {
  rs = await startResultsService()
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-artifact-test-'))
  artifact = await import('@actions/artifact')
})

afterAll(async () => {
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

afterEach(() => {
  while (cleanups.length) cleanups.pop()?.()
  rs.reset()
})

/** Applies the environment of one job of one run until the end of the test; returns a client. */
function inJob(runId: number, jobId: string) {
  const dir = path.join(base, `run-${runId}-${jobId}`)
  fs.mkdirSync(path.join(dir, 'temp'), { recursive: true })
  fs.mkdirSync(path.join(dir, 'workspace'), { recursive: true })
  const restoreEnv = applyEnv(
    rs.env({
      runId,
      jobId,
      runnerTemp: path.join(dir, 'temp'),
      workspace: path.join(dir, 'workspace')
    })
  )
  const output = captureToolkitOutput()
  cleanups.push(restoreEnv, () => output.restore())
  return { client: new artifact.DefaultArtifactClient(), output, dir }
}

/** The value, or a failure when the toolkit left it undefined. */
function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value')
  return value
}

function makeFiles(root: string, files: Record<string, string | Buffer>): string[] {
  return Object.entries(files).map(([name, content]) => {
    const full = path.join(root, name)
    fs.mkdirSync(path.dirname(full), { recursive: true })
    fs.writeFileSync(full, content)
    return full
  })
}

describe('@actions/artifact v6 against the local results service', () => {
  it('uploads, lists and downloads identical bytes in the same run', async () => {
    const { client, dir } = inJob(1, 'backup')
    const root = path.join(dir, 'report')
    const files = makeFiles(root, {
      'summary.json': '{"ok":true}\n',
      'repos/a.bundle': randomBytes(200_000),
      'repos/nested/b.txt': 'b\n'
    })
    const before = hashTree(root)

    const uploaded = await client.uploadArtifact('backup-report', files, root, {
      retentionDays: 5,
      compressionLevel: 0
    })
    expect(uploaded.id).toBeGreaterThan(0)
    expect(uploaded.size).toBeGreaterThan(200_000)

    const [stored] = rs.artifacts
    expect(stored).toMatchObject({
      id: uploaded.id,
      runId: '1',
      jobId: 'backup',
      name: 'backup-report'
    })
    expect(stored.size).toBe(uploaded.size)
    expect(stored.digest).toBe(`sha256:${uploaded.digest}`)
    expect(stored.blobPath).toMatch(/^actions-results\/1\/backup\/.+\/backup-report\.zip$/)
    const days = (stored.expiresAt.getTime() - stored.createdAt.getTime()) / 86_400_000
    expect(days).toBeGreaterThan(4.99)
    expect(days).toBeLessThan(5.01)

    const { artifacts } = await client.listArtifacts()
    expect(artifacts).toEqual([
      expect.objectContaining({ id: uploaded.id, name: 'backup-report', size: uploaded.size })
    ])
    expect((await client.getArtifact('backup-report')).artifact.id).toBe(uploaded.id)

    const target = path.join(dir, 'downloaded')
    const result = await client.downloadArtifact(must(uploaded.id), {
      path: target,
      expectedHash: `sha256:${uploaded.digest}`
    })
    expect(result).toEqual({ downloadPath: target, digestMismatch: false })
    expect(hashTree(target)).toEqual(before)
  })

  it('refuses a duplicate name in the same run (409) but not in another run', async () => {
    const first = inJob(2, 'one')
    const files = makeFiles(path.join(first.dir, 'f'), { 'x.txt': 'x' })
    await first.client.uploadArtifact('dup', files, path.join(first.dir, 'f'))
    const second = inJob(2, 'two')
    await expect(
      second.client.uploadArtifact('dup', files, path.join(first.dir, 'f'))
    ).rejects.toThrow(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: ' +
        'an artifact with this name already exists on the workflow run'
    )
    expect(rs.requests.at(-1)).toMatchObject({ method: 'CreateArtifact', status: 409 })

    const other = inJob(3, 'one')
    const { id } = await other.client.uploadArtifact('dup', files, path.join(first.dir, 'f'))
    expect(id).toBeGreaterThan(0)
    // Another job of run 2 sees (and can download) the artifact of job "one".
    expect((await second.client.listArtifacts()).artifacts.map(a => a.name)).toEqual(['dup'])
  })

  it('deletes an artifact, after which its name can be used again', async () => {
    const { client, dir } = inJob(4, 'backup')
    const root = path.join(dir, 'd')
    const files = makeFiles(root, { 'v.txt': 'one' })
    const first = await client.uploadArtifact('state', files, root)
    expect(await client.deleteArtifact('state')).toEqual({ id: first.id })
    expect(rs.artifacts.some(a => a.id === first.id)).toBe(false)
    await expect(client.getArtifact('state')).rejects.toThrow(/Artifact not found/)

    fs.writeFileSync(files[0], 'two')
    const second = await client.uploadArtifact('state', files, root)
    expect(second.id).not.toBe(first.id)
    const target = path.join(dir, 'out')
    await client.downloadArtifact(must(second.id), { path: target })
    expect(fs.readFileSync(path.join(target, 'v.txt'), 'utf8')).toBe('two')
  })

  it('moves a file of several tens of MB through multiple 8 MiB blocks', async () => {
    const { client, dir } = inJob(5, 'backup')
    const root = path.join(dir, 'big')
    const big = randomBytes(40 * 1024 * 1024)
    const [file] = makeFiles(root, { 'repo.bundle': big })
    const { id, size } = await client.uploadArtifact('big', [file], root, { compressionLevel: 0 })

    const stored = must(rs.artifacts.find(a => a.id === id))
    const blocks = await rs.blobs.committedBlocks(stored.container, stored.blob)
    expect(blocks.length).toBeGreaterThanOrEqual(5)
    expect(blocks[0]).toBe(8 * 1024 * 1024)
    expect(blocks.reduce((sum, n) => sum + n, 0)).toBe(size)

    const target = path.join(dir, 'out')
    await client.downloadArtifact(must(id), { path: target })
    const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')
    expect(sha(fs.readFileSync(path.join(target, 'repo.bundle')))).toBe(sha(big))
  })

  it('uploads a single file without a zip (skipArchive) and downloads it under its name', async () => {
    const { client, dir } = inJob(6, 'backup')
    const [file] = makeFiles(path.join(dir, 'raw'), { 'manifest.json': '{"repos":3}' })
    const { id } = await client.uploadArtifact('ignored', [file], path.join(dir, 'raw'), {
      skipArchive: true
    })
    expect(rs.artifacts.find(a => a.id === id)?.name).toBe('manifest.json')
    const target = path.join(dir, 'out')
    await client.downloadArtifact(must(id), { path: target })
    expect(fs.readFileSync(path.join(target, 'manifest.json'), 'utf8')).toBe('{"repos":3}')
  })

  it('retries a transient 500 and surfaces a persistent one', async () => {
    const { client, dir } = inJob(7, 'backup')
    cleanups.push(shortenRetryDelays())
    const root = path.join(dir, 'r')
    const files = makeFiles(root, { 'a.txt': 'a' })
    rs.failNext({ service: 'artifact', method: 'FinalizeArtifact', status: 500 })
    const { id } = await client.uploadArtifact('flaky', files, root)
    expect(id).toBeGreaterThan(0)
    expect(rs.requests.map(r => `${r.method}:${r.status}`)).toEqual([
      'CreateArtifact:200',
      'FinalizeArtifact:500',
      'FinalizeArtifact:200'
    ])

    rs.failNext({ service: 'artifact', method: 'ListArtifacts', status: 503, count: 5 })
    await expect(client.listArtifacts()).rejects.toThrow(
      /Failed to ListArtifacts: Failed to make request after 5 attempts: Failed request: \(503\)/
    )
  })
})
