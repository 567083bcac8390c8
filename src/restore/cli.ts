// `node dist/index.js restore ...`: the restore as a command line, from a checkout of the action at a
// release tag with nothing to install. Secrets come from the environment only, never from arguments.
// Arguments and environment become the restore action's inputs, read by the same parser.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { coded, ensureCoded } from '../shared/codes.js'
import { DEFAULT_API_URL, DEFAULT_CONCURRENCY } from '../shared/constants.js'
import { messageOf } from '../shared/errors.js'
import { SettingsError, splitList, type InputSource } from '../settings/parse.js'
import { ageIdentities, parseRestoreRequest, RestoreInputs } from '../settings/restore.js'
import { createSlugFilter } from '../settings/selection.js'
import { createGit } from '../git/git.js'
import { NothingToRestoreError, runRestore } from './flow.js'
import { DestinationError } from './request.js'
import { findBackups } from './sources.js'
import { verifyBackups } from './verify.js'

export const RESTORE_USAGE = `Usage: node dist/index.js restore --from <backup> (--to <url-template> | --bitbucket-workspace <ws> | --github-owner <owner>) [options]

  --from <path>                 a backup directory (backup-dir, a workspace folder or one <slug>.git mirror)
                                or a folder of downloaded artifacts
  --from github:<owner>         the mirrors the github target made in this GitHub organization or user
  --to <template>               any git URL or local path, with {workspace} and {slug}, e.g. /restore/{slug}.git
  --bitbucket-workspace <ws>    restore into this Bitbucket workspace; missing repositories are created
  --github-owner <owner>        restore into this GitHub organization or user; missing repositories are created
  --repositories <globs>        which repositories (slugs, comma separated globs; default all)
  --at <time>                   point in time for a backup directory, e.g. 2026-11-20T00:00:00Z
  --overwrite                   push into destinations that are not empty
  --metadata <words>            into Bitbucket, what to restore beyond git: settings, downloads, all or none
                                (default all); ends with a checklist of what to re-enter by hand
  --reopen-pull-requests        into Bitbucket, open each archived open pull request anew (its branches must exist)
  --concurrency <n>             how many repositories are restored at the same time (1 to 64; default ${DEFAULT_CONCURRENCY})
  --identity <file>             age identity file for encrypted artifacts (or AGE_PASSPHRASE in the environment)
  --bitbucket-api-url <url>     default ${DEFAULT_API_URL}
  --github-api-url <url>        of a --github-owner destination or a github: source; default https://api.github.com

Verify a backup without restoring it (git fsck, every LFS object, every manifest checksum):
  node dist/index.js verify --from <backup> [--repositories <globs>] [--identity <file>]

Secrets (environment only): BITBUCKET_EMAIL + BITBUCKET_API_TOKEN, or BITBUCKET_ACCESS_TOKEN;
GITHUB_TOKEN (a github-owner destination, and a github: source); AGE_PASSPHRASE; RESTORE_GIT_USERNAME + RESTORE_GIT_PASSWORD for a --to URL.`

class UsageError extends Error {}

const RESTORE_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'bitbucket-workspace': { type: 'string' },
  'github-owner': { type: 'string' },
  repositories: { type: 'string' },
  at: { type: 'string' },
  overwrite: { type: 'boolean' },
  metadata: { type: 'string' },
  'reopen-pull-requests': { type: 'boolean' },
  concurrency: { type: 'string' },
  identity: { type: 'string' },
  'bitbucket-api-url': { type: 'string' },
  'github-api-url': { type: 'string' },
  help: { type: 'boolean' }
} as const

/** The restore inputs the command line takes from the environment, by their variable. */
const FROM_ENVIRONMENT: Record<string, string> = {
  [RestoreInputs.Token]: 'GITHUB_TOKEN',
  [RestoreInputs.DestinationToken]: 'GITHUB_TOKEN',
  [RestoreInputs.BitbucketEmail]: 'BITBUCKET_EMAIL',
  [RestoreInputs.BitbucketApiToken]: 'BITBUCKET_API_TOKEN',
  [RestoreInputs.BitbucketAccessToken]: 'BITBUCKET_ACCESS_TOKEN',
  [RestoreInputs.ToUsername]: 'RESTORE_GIT_USERNAME',
  [RestoreInputs.ToPassword]: 'RESTORE_GIT_PASSWORD',
  [RestoreInputs.EncryptionPassphrase]: 'AGE_PASSPHRASE'
}

function readIdentityFile(file: string | undefined): string {
  return file ? fs.readFileSync(file, 'utf8') : ''
}

/** Arguments for where, the environment for secrets, as the action's inputs (run-id has no flag). */
function inputsOf(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv
): InputSource {
  return {
    get(name) {
      if (name === RestoreInputs.EncryptionIdentity)
        return readIdentityFile(values.identity as string | undefined)
      if (name in FROM_ENVIRONMENT) return env[FROM_ENVIRONMENT[name]] ?? ''
      if (name === RestoreInputs.RunId) return ''
      const value = values[name]
      return value === true ? 'true' : typeof value === 'string' ? value : ''
    },
    // The command line has no log that masks.
    mask: () => undefined,
    env
  }
}

/** A parser's one line in the command line's words: `--at "x" is not a time; expected ...`. */
function describe(error: unknown): string {
  const parts = error instanceof SettingsError ? error.parts : undefined
  // An unknown option or a missing value: the command line's own bad input.
  if (/^ERR_PARSE_ARGS_/.test(String((error as { code?: unknown } | undefined)?.code)))
    return coded('IN001', messageOf(error))
  if (!parts) return ensureCoded('RUN001', messageOf(error))
  const name = FROM_ENVIRONMENT[parts.input] ?? `--${parts.input}`
  return coded(parts.code, `${name} ${parts.problem}; ${parts.expected}`)
}

/** `--repositories`: comma-separated globs on the slug, all when absent. */
async function selectedBackups(from: string, repositories: string | undefined) {
  const selected = createSlugFilter(splitList(repositories ?? ''), [])
  const sources = (await findBackups(from)).filter(source => selected(source.facts.slug))
  if (sources.length === 0) {
    throw new UsageError(
      coded('RS001', `no backup of a selected repository was found under ${from}`)
    )
  }
  return sources
}

/** Runs the restore; resolves to the process exit code (0 only when every repository came back). */
export async function runRestoreCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = line => console.log(line)
): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: RESTORE_OPTIONS })
    if (values.help) {
      log(RESTORE_USAGE)
      return 0
    }
    const request = parseRestoreRequest(inputsOf(values, env), {
      artifacts: false,
      baseDir: process.cwd()
    })
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitbucket-restore-'))
    try {
      const { outcomes, failed } = await runRestore(request, {
        log,
        mask: () => undefined,
        workDir
      })
      // The failures again, in the order of the backups: the progress lines came as each finished.
      if (failed.length > 0 && outcomes.length > 1)
        for (const outcome of failed) log(`not restored: ${outcome.repository}: ${outcome.detail}`)
      const todo = outcomes.filter(outcome => outcome.checklist?.length)
      if (todo.length > 0) log('To do by hand:')
      for (const outcome of todo)
        for (const line of outcome.checklist!) log(`  ${outcome.repository}: ${line}`)
      log(`${outcomes.length - failed.length} restored, ${failed.length} failed`)
      return failed.length > 0 ? 1 : 0
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true })
    }
  } catch (error) {
    log(`restore: ${describe(error)}`)
    const usage = [SettingsError, DestinationError, NothingToRestoreError]
    if (usage.some(kind => error instanceof kind)) log(RESTORE_USAGE)
    return 2
  }
}

/** `verify`: exit 0 when every selected backup is intact, 1 when anything is damaged. */
export async function runVerifyCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = line => console.log(line)
): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        repositories: { type: 'string' },
        identity: { type: 'string' }
      }
    })
    if (!values.from) throw new UsageError(coded('IN002', '--from is required'))
    const sources = await selectedBackups(values.from, values.repositories)
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bitbucket-verify-'))
    try {
      const outcomes = await verifyBackups({
        git: createGit(),
        sources,
        scratch,
        keys: {
          passphrase: env.AGE_PASSPHRASE,
          identities: ageIdentities(readIdentityFile(values.identity))
        },
        log
      })
      const damaged = outcomes.filter(outcome => outcome.problems.length > 0).length
      log(`${outcomes.length - damaged} intact, ${damaged} damaged`)
      return damaged > 0 ? 1 : 0
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true })
    }
  } catch (error) {
    log(`verify: ${describe(error)}`)
    if (error instanceof UsageError) log(RESTORE_USAGE)
    return 2
  }
}
