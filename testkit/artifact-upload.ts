// Uploads small artifacts into a run with the real @actions/artifact client, as another job of the
// run would (reports, logs): for tests that need a run's artifacts without running the action.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { applyEnv, captureToolkitOutput, type ResultsService } from './results-service/index.js'

export interface SmallUpload {
  runId: number
  repository: string
  /** GITHUB_API_URL of the runner: the toolkit reads it once, when it is first imported. */
  apiUrl: string
  /** One artifact per name, holding `<name>.txt` with the text `<name> of run <runId>`. */
  names: string[]
  parent: string
  retentionDays?: number
}

/** Returns each artifact's id by name. */
export async function uploadSmallArtifacts(
  rs: ResultsService,
  upload: SmallUpload
): Promise<Map<string, number>> {
  const dir = fs.mkdtempSync(path.join(upload.parent, 'job-'))
  const env = rs.env({ runId: upload.runId, jobId: 'reports', repository: upload.repository })
  const restoreEnv = applyEnv({ ...env, GITHUB_API_URL: upload.apiUrl, GITHUB_WORKSPACE: dir })
  const output = captureToolkitOutput()
  const ids = new Map<string, number>()
  try {
    const { DefaultArtifactClient } = await import('@actions/artifact')
    const client = new DefaultArtifactClient()
    for (const name of upload.names) {
      const file = path.join(dir, `${name}.txt`)
      fs.writeFileSync(file, `${name} of run ${upload.runId}\n`)
      const { id } = await client.uploadArtifact(name, [file], dir, {
        retentionDays: upload.retentionDays
      })
      if (id === undefined) throw new Error(`no id for artifact ${name}`)
      ids.set(name, id)
    }
  } finally {
    output.restore()
    restoreEnv()
  }
  return ids
}
