// The backup run in this process (no bundle): settings from inputs, the run over the local Bitbucket,
// every warning and line kept for the test to read.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createRestBudget } from '../src/bitbucket/budget.js'
import { createBitbucketClient } from '../src/bitbucket/client.js'
import { listForBackup } from '../src/backup/listing.js'
import { runBackup, type BackupRun } from '../src/backup/run.js'
import { createRunClock } from '../src/backup/stop.js'
import { createBitbucketAuth } from '../src/credentials/credentials.js'
import { createSlugFilter } from '../src/settings/selection.js'
import { parseSettings } from '../src/settings/settings.js'
import type { Settings } from '../src/settings/types.js'
import type { StepLog } from '../src/shared/log.js'
import type { LocalBitbucket } from './bitbucket/index.js'

export interface InProcessRun extends BackupRun {
  settings: Settings
  warnings: string[]
  lines: string[]
}

/** Parsed as the action parses its inputs, with RUNNER_TEMP and GITHUB_WORKSPACE under `dir`. */
export function settingsFor(dir: string, inputs: Record<string, string>): Settings {
  fs.mkdirSync(dir, { recursive: true })
  return parseSettings({
    get: name => inputs[name] ?? '',
    mask: () => {},
    env: { GITHUB_WORKSPACE: dir, RUNNER_TEMP: path.join(dir, 'temp') }
  })
}

/** One backup run with `inputs` (cache off unless given) against `bb`, working under `dir`. */
export async function backUpInProcess(
  bb: LocalBitbucket,
  dir: string,
  inputs: Record<string, string>
): Promise<InProcessRun> {
  const settings = settingsFor(dir, { 'bitbucket-api-url': bb.apiUrl, cache: 'false', ...inputs })
  const warnings: string[] = []
  const lines: string[] = []
  const log: StepLog = {
    info: line => lines.push(line),
    warning: line => warnings.push(line),
    debug: () => {},
    group: (title, grouped) => lines.push(title, ...grouped)
  }
  const auth = createBitbucketAuth(settings.credential, {
    oauthTokenUrl: bb.oauthTokenUrl,
    mask: () => {}
  })
  const budget = createRestBudget(settings.metadata.restBudget)
  const client = createBitbucketClient({ apiUrl: settings.apiUrl, auth, log, budget })
  const snippetsRefused = new Set<string>()
  // The run moves into its cache root (useCacheRoot), which the test deletes: the jest worker,
  // which runs other test files next, must not be left in a directory that is gone.
  const cwd = process.cwd()
  const workspace = process.env.GITHUB_WORKSPACE
  try {
    const run = await runBackup({
      settings,
      listing: listForBackup(settings, client, log, snippetsRefused),
      snippetsRefused,
      auth,
      isSelected: createSlugFilter(settings.include, settings.exclude),
      clock: createRunClock(undefined),
      log,
      rest: { client, budget }
    })
    return { ...run, settings, warnings, lines }
  } finally {
    process.chdir(cwd)
    if (workspace === undefined) delete process.env.GITHUB_WORKSPACE
    else process.env.GITHUB_WORKSPACE = workspace
  }
}
