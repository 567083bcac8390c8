// Downloads every artifact of a run with the real @actions/artifact client, as a user's restore job would.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { applyEnv, captureToolkitOutput, type ResultsService } from './results-service/index.js'

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
