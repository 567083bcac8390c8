// Round trip through the artifact target, plain and encrypted: back up a rich workspace as the runner
// does, download the artifacts with the real client, restore them with the command line.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'
import {
  backUpRoundTrip,
  createRoundTripWorkspace,
  restoreIntoFreshBitbucket,
  runCli
} from '../testkit/round-trip.js'

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 900

async function backup(extra: Record<string, string> = {}) {
  runId++
  const runnerDir = fs.mkdtempSync(path.join(base, 'runner-'))
  const run = await backUpRoundTrip(
    bb,
    { target: 'artifact', ...extra },
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

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, env)

/** Restores the downloaded artifacts into a fresh local Bitbucket and compares with the source. */
async function restoreAndCompare(
  from: string,
  extra: string[] = [],
  env: Record<string, string> = {}
) {
  const { figures } = await restoreIntoFreshBitbucket(bb, 'acme', ['--from', from, ...extra], env)
  return figures
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-artifact-'))
  bb = await startLocalBitbucket()
  rs = await startResultsService()
  await createRoundTripWorkspace(bb, 'acme')
}, 180_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('restoring the artifact target into a fresh Bitbucket with the command line', () => {
  it('brings every repository back from the downloaded artifacts, bit for bit', async () => {
    const { dir } = await downloadRunArtifacts(rs, await backup(), base)
    const figures = await restoreAndCompare(dir)
    expect(figures[0].lfs).toBe(3)
    expect((await cli(['verify', '--from', dir])).output).toMatch(/4 intact, 0 damaged/)
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
    const without = await cli(['restore', '--from', dir, '--to', `${base}/nokey/{slug}.git`])
    expect(without.code).toBe(1)
    expect(without.output).toMatch(/encrypted: give the passphrase or an age identity/)
    await restoreAndCompare(dir, ['--identity', keyFile])
  }, 180_000)

  it('brings a passphrase-encrypted backup back with AGE_PASSPHRASE from the environment', async () => {
    const passphrase = 'correct-horse-battery-staple-restore'
    const { dir } = await downloadRunArtifacts(
      rs,
      await backup({ 'encryption-passphrase': passphrase }),
      base
    )
    await restoreAndCompare(dir, [], { AGE_PASSPHRASE: passphrase })
  }, 180_000)
})
