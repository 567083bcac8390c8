// The restore action (restore/action.yml): its inputs through the restore parser, the one restore
// flow, then outputs, a job summary and one error line per repository not restored.
import * as path from 'node:path'
import * as core from '@actions/core'
import { messageOf } from '../shared/errors.js'
import { parseRestoreRequest, RestoreOutputs } from '../settings/restore.js'
import { runRestore, type RestoreRun } from './flow.js'
import { codeOf, coded, ensureCoded } from '../shared/codes.js'

async function report({ outcomes, failed }: RestoreRun): Promise<void> {
  core.setOutput(RestoreOutputs.Restored, outcomes.length - failed.length)
  core.setOutput(RestoreOutputs.Failed, failed.length)
  const todo = outcomes.flatMap(outcome =>
    (outcome.checklist ?? []).map(line => `${outcome.repository}: ${line}`)
  )
  core.summary.addHeading('Bitbucket restore', 2).addTable([
    [
      { data: 'repository', header: true },
      { data: 'outcome', header: true }
    ],
    ...outcomes.map(outcome => [
      outcome.repository,
      outcome.ok ? `✅ ${outcome.detail}` : `❌ ${outcome.detail}`
    ])
  ])
  // What Bitbucket never hands out, and what could not be written: for a person to do.
  // Lines quote what the archive holds (webhook descriptions): shown as text, never as HTML.
  const text = (line: string) =>
    line.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  if (todo.length > 0) core.summary.addHeading('To do by hand', 3).addList(todo.map(text))
  await core.summary.write()
  for (const line of todo) core.warning(ensureCoded('RS010', line))
  for (const outcome of failed) core.error(`${outcome.repository}: ${outcome.detail}`)
  // The step's last line names the first failure's code: where its entry says what to do.
  const first = failed.map(outcome => codeOf(outcome.detail)).find(Boolean)
  if (failed.length > 0) {
    const line = `${failed.length} of ${outcomes.length} repositories were not restored.`
    core.setFailed(coded(first ?? 'RUN001', line))
  }
}

export async function runRestoreAction(): Promise<void> {
  try {
    const env = process.env
    const request = parseRestoreRequest(
      { get: name => core.getInput(name), mask: core.setSecret, env },
      { artifacts: true, baseDir: env.GITHUB_WORKSPACE || process.cwd() }
    )
    const workDir = path.join(env.RUNNER_TEMP || process.cwd(), 'bitbucket-restore')
    await report(
      await runRestore(request, { log: line => core.info(line), mask: core.setSecret, workDir })
    )
  } catch (error) {
    core.setFailed(ensureCoded('RUN001', messageOf(error)))
  }
}
