// Round trip through the artifact target, plain and encrypted: back up a rich workspace as the runner
// does, download the artifacts with the real client, restore them with the command line.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { distEntry, node24Binary, runAction } from './support/action-runner.js'
import { downloadRunArtifacts } from './support/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from './support/bitbucket/index.js'
import { startResultsService, type ResultsService } from './support/results-service/index.js'
import {
  artifactBackupInputs,
  createRoundTripWorkspace,
  expectRestoredAsSource,
  ROUND_TRIP_SLUGS
} from './support/round-trip.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0restore-artifact-secret'

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 900

async function backup(extra: Record<string, string> = {}) {
  runId++
  const runnerDir = fs.mkdtempSync(path.join(base, 'runner-'))
  const run = await runAction(
    {
      ...artifactBackupInputs(bb, 'acme', { email: EMAIL, token: API_TOKEN }),
      cache: 'false',
      ...extra
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
  expect(run.exitCode).toBe(0)
  return runId
}

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(node24Binary(), [distEntry, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env },
    timeout: 180_000
  })
  return { code: result.status, output: `${result.stdout}${result.stderr}` }
}

function restoreAndCompare(from: string, extra: string[] = [], env: Record<string, string> = {}) {
  const destination = fs.mkdtempSync(path.join(base, 'restored-'))
  const result = cli(
    ['restore', '--from', from, '--to', `${destination}/{slug}.git`, ...extra],
    env
  )
  expect(result.output).toMatch(/4 restored, 0 failed/)
  expect(result.code).toBe(0)
  return ROUND_TRIP_SLUGS.map(slug =>
    expectRestoredAsSource(bb, 'acme', slug, path.join(destination, `${slug}.git`))
  )
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-artifact-'))
  bb = await startLocalBitbucket()
  rs = await startResultsService()
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  await createRoundTripWorkspace(bb, 'acme')
}, 180_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('restoring the artifact target with the command line', () => {
  it('brings every repository back from the downloaded artifacts, bit for bit', async () => {
    const { dir } = await downloadRunArtifacts(rs, await backup(), base)
    const figures = restoreAndCompare(dir)
    expect(figures[0].lfs).toBe(3)
    expect(cli(['verify', '--from', dir]).output).toMatch(/4 intact, 0 damaged/)
  }, 180_000)

  it('brings an encrypted backup back with the age identity, and refuses without it', async () => {
    const keyFile = path.join(base, 'age-key.txt')
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' })
    const recipient = execFileSync('age-keygen', ['-y', keyFile]).toString().trim()
    const { dir } = await downloadRunArtifacts(
      rs,
      await backup({ 'encryption-recipients': recipient }),
      base
    )
    const without = cli(['restore', '--from', dir, '--to', `${base}/nokey/{slug}.git`])
    expect(without.code).toBe(1)
    expect(without.output).toMatch(/encrypted: give the passphrase or an age identity/)
    restoreAndCompare(dir, ['--identity', keyFile])
  }, 180_000)

  it('brings a passphrase-encrypted backup back with AGE_PASSPHRASE from the environment', async () => {
    const passphrase = 'correct-horse-battery-staple-restore'
    const { dir } = await downloadRunArtifacts(
      rs,
      await backup({ 'encryption-passphrase': passphrase }),
      base
    )
    restoreAndCompare(dir, [], { AGE_PASSPHRASE: passphrase })
  }, 180_000)
})
