// Downloads every artifact of a run with the real @actions/artifact client, as a user's restore job would.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { applyEnv, captureToolkitOutput, type ResultsService } from './results-service/index.js'

/**
 * Runs `work` (an in-process backup) as job `backup` of run `runId` on a runner under `runnerDir`,
 * the toolkit's own lines kept out of the test's output; its artifacts are then the run's.
 */
export async function inRunnerJob<T>(
  rs: ResultsService,
  runId: number,
  runnerDir: string,
  work: () => Promise<T>
): Promise<T> {
  const restoreEnv = applyEnv(
    rs.env({
      runId,
      jobId: 'backup',
      runnerTemp: path.join(runnerDir, 'temp'),
      workspace: runnerDir
    })
  )
  const output = captureToolkitOutput()
  try {
    return await work()
  } finally {
    output.restore()
    restoreEnv()
  }
}

export async function downloadRunArtifacts(
  rs: ResultsService,
  runId: number,
  parent: string
): Promise<{ dir: string; names: string[] }> {
  const dir = fs.mkdtempSync(path.join(parent, 'download-'))
  const restoreEnv = applyEnv(rs.env({ runId, jobId: 'restore', runnerTemp: dir, workspace: dir }))
  const output = captureToolkitOutput()
  try {
    const { DefaultArtifactClient } = await import('@actions/artifact')
    const client = new DefaultArtifactClient()
    const { artifacts } = await client.listArtifacts()
    for (const artifact of artifacts) {
      await client.downloadArtifact(artifact.id, { path: path.join(dir, artifact.name) })
    }
    return { dir, names: artifacts.map(artifact => artifact.name).sort() }
  } finally {
    output.restore()
    restoreEnv()
  }
}
