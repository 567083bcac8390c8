// `node dist/index.js restore ...`: the restore as a command line, from a checkout of the action at a
// release tag with nothing to install. Secrets come from the environment only, never from arguments.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_API_URL, DEFAULT_GITHUB_API_URL } from '../shared/constants.js'
import { createSlugFilter } from '../settings/selection.js'
import { DestinationError, openDestination, type DestinationRequest } from './request.js'
import { restoreBackups, type RestoreOutcome } from './run.js'
import type { UnavailableRepository } from './artifact-source.js'
import { verifyBackups } from './verify.js'
import { createGit } from '../git/git.js'
import { cloneGitHubMirrors, GITHUB_SOURCE_PREFIX } from './github-source.js'
import { findBackups } from './sources.js'

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
  --identity <file>             age identity file for encrypted artifacts (or AGE_PASSPHRASE in the environment)
  --bitbucket-api-url <url>     default ${DEFAULT_API_URL}
  --github-api-url <url>        of a --github-owner destination or a github: source; default https://api.github.com

Verify a backup without restoring it (git fsck, every LFS object, every manifest checksum):
  node dist/index.js verify --from <backup> [--repositories <globs>] [--identity <file>]

Secrets (environment only): BITBUCKET_EMAIL + BITBUCKET_API_TOKEN, or BITBUCKET_ACCESS_TOKEN;
GITHUB_TOKEN (a github-owner destination, and a github: source); AGE_PASSPHRASE; RESTORE_GIT_USERNAME + RESTORE_GIT_PASSWORD for a --to URL.`

class UsageError extends Error {}

/** The command line's destination: arguments for where, the environment for secrets. */
function requestFrom(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv
): DestinationRequest {
  return {
    to: values.to as string | undefined,
    bitbucketWorkspace: values['bitbucket-workspace'] as string | undefined,
    githubOwner: values['github-owner'] as string | undefined,
    bitbucketApiUrl: (values['bitbucket-api-url'] as string | undefined) ?? DEFAULT_API_URL,
    githubApiUrl: (values['github-api-url'] as string | undefined) ?? DEFAULT_GITHUB_API_URL,
    secrets: {
      bitbucketEmail: env.BITBUCKET_EMAIL,
      bitbucketApiToken: env.BITBUCKET_API_TOKEN,
      bitbucketAccessToken: env.BITBUCKET_ACCESS_TOKEN,
      githubToken: env.GITHUB_TOKEN,
      toUsername: env.RESTORE_GIT_USERNAME,
      toPassword: env.RESTORE_GIT_PASSWORD
    }
  }
}

/** `--repositories`: comma-separated globs on the slug, all when absent. */
function selectionOf(repositories: string | undefined): (slug: string) => boolean {
  const globs = (repositories ?? '')
    .split(',')
    .map(glob => glob.trim())
    .filter(Boolean)
  return createSlugFilter(globs, [])
}

async function selectedBackups(from: string, repositories: string | undefined, named = from) {
  const selected = selectionOf(repositories)
  const sources = (await findBackups(from)).filter(source => selected(source.facts.slug))
  if (sources.length === 0) {
    throw new UsageError(`no backup of a selected repository was found under ${named}`)
  }
  return sources
}

/** `--from github:<owner>`: the mirrors, cloned with GITHUB_TOKEN from --github-api-url. */
async function cloneMirrorsFrom(
  from: string,
  request: DestinationRequest,
  select: (slug: string) => boolean,
  dir: string,
  log: (line: string) => void
): Promise<{ unavailable: UnavailableRepository[] }> {
  const owner = from.slice(GITHUB_SOURCE_PREFIX.length).trim()
  const token = request.secrets.githubToken
  if (!owner || !token) {
    throw new UsageError(
      `--from ${from}: give the owner (github:my-org-mirrors) and GITHUB_TOKEN that reads its repositories`
    )
  }
  return cloneGitHubMirrors({ owner, apiUrl: request.githubApiUrl, token, select, dir, log })
}

function readIdentities(file: string | undefined): string[] | undefined {
  if (!file) return undefined
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map(line => line.trim())
    .filter(line => line.startsWith('AGE-SECRET-KEY-'))
}

/** Runs the restore; resolves to the process exit code (0 only when every repository came back). */
export async function runRestoreCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = line => console.log(line)
): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        'bitbucket-workspace': { type: 'string' },
        'github-owner': { type: 'string' },
        repositories: { type: 'string' },
        at: { type: 'string' },
        overwrite: { type: 'boolean' },
        identity: { type: 'string' },
        'bitbucket-api-url': { type: 'string' },
        'github-api-url': { type: 'string' },
        help: { type: 'boolean' }
      }
    })
    if (values.help) {
      log(RESTORE_USAGE)
      return 0
    }
    if (!values.from) throw new UsageError('--from is required')
    const at = values.at ? new Date(values.at) : undefined
    if (at && Number.isNaN(at.getTime()))
      throw new UsageError(`--at "${values.at}" is not a time; expected e.g. 2026-11-20T00:00:00Z`)
    const request = requestFrom(values, env)
    const destination = openDestination(request, log)
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitbucket-restore-'))
    try {
      let from = values.from
      let unavailable: RestoreOutcome[] = []
      if (from.startsWith(GITHUB_SOURCE_PREFIX)) {
        from = path.join(workDir, 'github')
        const cloned = await cloneMirrorsFrom(
          values.from,
          request,
          selectionOf(values.repositories),
          from,
          log
        )
        unavailable = cloned.unavailable.map(missing => ({ ...missing, ok: false }))
      }
      const sources =
        unavailable.length > 0
          ? await findBackups(from)
          : await selectedBackups(from, values.repositories, values.from)
      log(`Restoring ${sources.length} repositories from ${values.from} to ${destination.describe}`)
      const restored = await restoreBackups({
        sources,
        destination,
        at,
        overwrite: Boolean(values.overwrite),
        keys: { passphrase: env.AGE_PASSPHRASE, identities: readIdentities(values.identity) },
        workDir,
        log
      })
      const outcomes = [...restored, ...unavailable]
      const failed = outcomes.filter(outcome => !outcome.ok).length
      log(`${outcomes.length - failed} restored, ${failed} failed`)
      return failed > 0 ? 1 : 0
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true })
    }
  } catch (error) {
    log(`restore: ${error instanceof Error ? error.message : String(error)}`)
    if (error instanceof UsageError || error instanceof DestinationError) log(RESTORE_USAGE)
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
    if (!values.from) throw new UsageError('--from is required')
    const sources = await selectedBackups(values.from, values.repositories)
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bitbucket-verify-'))
    try {
      const outcomes = await verifyBackups({
        git: createGit(),
        sources,
        scratch,
        keys: { passphrase: env.AGE_PASSPHRASE, identities: readIdentities(values.identity) },
        log
      })
      const damaged = outcomes.filter(outcome => outcome.problems.length > 0).length
      log(`${outcomes.length - damaged} intact, ${damaged} damaged`)
      return damaged > 0 ? 1 : 0
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true })
    }
  } catch (error) {
    log(`verify: ${error instanceof Error ? error.message : String(error)}`)
    if (error instanceof UsageError) log(RESTORE_USAGE)
    return 2
  }
}
