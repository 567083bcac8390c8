// Action inputs → one typed, validated Settings; every problem is one line naming the input and the fix.
import * as path from 'node:path'
import {
  DEFAULT_API_URL,
  DEFAULT_CACHE_SIZE_LIMIT,
  DEFAULT_CONCURRENCY,
  Inputs
} from '../shared/constants.js'
import { APP_PASSWORD_REMOVED, looksLikeAppPassword } from '../credentials/credentials.js'
import { parseArtifactSettings } from './artifact.js'
import { parseGitHubSettings } from './github.js'
import { parseShardSettings } from './shard.js'
import { shardLabel } from './shard.js'
import type { BitbucketCredentialInput, Settings, TargetKind } from './types.js'
import {
  fail,
  parseBoolean,
  parseDuration,
  parseGlobs,
  parseInteger,
  parseSize,
  parseUrl,
  readSecret,
  splitList,
  type InputSource
} from './parse.js'

export { SettingsError, splitList, parseSize, type InputSource } from './parse.js'

const TARGETS: readonly TargetKind[] = ['artifact', 'github', 'directory']
const WORKSPACE_SLUG = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
const PROJECT_KEY = /^[A-Za-z0-9_-]+$/

/** Real Bitbucket serves REST on api.bitbucket.org and OAuth on bitbucket.org; other hosts serve both. */
export function defaultOAuthTokenUrl(apiUrl: URL): string {
  const host = apiUrl.host.replace(/^api\./, '')
  return `${apiUrl.protocol}//${host}/site/oauth2/access_token`
}

function parseCredential(source: InputSource): BitbucketCredentialInput {
  const email = source.get(Inputs.Email).trim()
  const apiToken = readSecret(source, Inputs.ApiToken)
  const gitUsername = source.get(Inputs.GitUsername).trim()
  const accessToken = readSecret(source, Inputs.AccessToken)
  const clientId = readSecret(source, Inputs.OAuthClientId)
  const clientSecret = readSecret(source, Inputs.OAuthClientSecret)

  const given = [
    apiToken || email ? Inputs.ApiToken : '',
    accessToken ? Inputs.AccessToken : '',
    clientId || clientSecret ? 'bitbucket-oauth-client-id/secret' : ''
  ].filter(Boolean)
  if (given.length === 0) {
    fail(
      Inputs.ApiToken,
      'no Bitbucket credential was given',
      `set ${Inputs.Email} + ${Inputs.ApiToken}, or ${Inputs.AccessToken}, or ${Inputs.OAuthClientId} + ${Inputs.OAuthClientSecret} from secrets`
    )
  }
  if (given.length > 1) {
    fail(
      given[1],
      `more than one kind of credential was given (${given.join(', ')})`,
      'set only one'
    )
  }
  for (const [name, secret] of [
    [Inputs.ApiToken, apiToken],
    [Inputs.AccessToken, accessToken],
    [Inputs.OAuthClientSecret, clientSecret]
  ]) {
    if (secret && looksLikeAppPassword(secret))
      fail(name, 'this is an app password', APP_PASSWORD_REMOVED)
  }
  if (apiToken || email) {
    if (!email)
      fail(
        Inputs.Email,
        'is empty',
        `the Atlassian account email is required with ${Inputs.ApiToken}`
      )
    if (!apiToken)
      fail(Inputs.ApiToken, 'is empty', `an Atlassian API token is required with ${Inputs.Email}`)
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
      fail(
        Inputs.Email,
        `"${email}" is not an email address`,
        `the REST API needs the Atlassian account email; a Bitbucket username goes in ${Inputs.GitUsername}`
      )
    }
    if (gitUsername.includes('@')) {
      fail(
        Inputs.GitUsername,
        'git rejects an email as user name',
        'use the Bitbucket username (Personal settings > Account settings), or leave it empty'
      )
    }
    return { kind: 'api-token', email, token: apiToken, ...(gitUsername ? { gitUsername } : {}) }
  }
  if (accessToken) return { kind: 'access-token', token: accessToken }
  if (!clientId)
    fail(
      Inputs.OAuthClientId,
      'is empty',
      `the OAuth consumer key is required with ${Inputs.OAuthClientSecret}`
    )
  if (!clientSecret)
    fail(
      Inputs.OAuthClientSecret,
      'is empty',
      `the OAuth consumer secret is required with ${Inputs.OAuthClientId}`
    )
  return { kind: 'oauth', clientId, clientSecret }
}

function parseWorkspaces(raw: string): string[] {
  const workspaces = splitList(raw)
  if (workspaces.length === 0) {
    fail(
      Inputs.Workspace,
      'is empty',
      'expected one or more workspace slugs (bitbucket.org/<workspace>)'
    )
  }
  for (const workspace of workspaces) {
    if (!WORKSPACE_SLUG.test(workspace)) {
      fail(
        Inputs.Workspace,
        `"${workspace}" is not a workspace slug`,
        'expected the workspace ID from bitbucket.org/<workspace> (letters, digits, "-", "_"), several separated by commas or new lines'
      )
    }
  }
  return workspaces
}

function parseTargets(raw: string): TargetKind[] {
  const targets = splitList(raw.toLowerCase() || 'artifact')
  for (const target of targets) {
    if (!TARGETS.includes(target as TargetKind)) {
      fail(
        Inputs.Target,
        `"${target}" is not a target`,
        `expected one or more of ${TARGETS.join(', ')}`
      )
    }
  }
  return targets as TargetKind[]
}

/** Reads and validates every input; throws SettingsError before anything touches the network. */
export function parseSettings(source: InputSource): Settings {
  const workspaces = parseWorkspaces(source.get(Inputs.Workspace))
  const credential = parseCredential(source)
  const apiUrl = parseUrl(Inputs.ApiUrl, source.get(Inputs.ApiUrl).trim() || DEFAULT_API_URL)
  const tokenUrlRaw = source.get(Inputs.OAuthTokenUrl).trim()
  const oauthTokenUrl = tokenUrlRaw
    ? parseUrl(Inputs.OAuthTokenUrl, tokenUrlRaw).href
    : defaultOAuthTokenUrl(apiUrl)
  const projects = splitList(source.get(Inputs.Projects))
  for (const key of projects) {
    if (!PROJECT_KEY.test(key)) {
      fail(
        Inputs.Projects,
        `"${key}" is not a project key`,
        'expected keys such as PROJ or API, separated by commas'
      )
    }
  }
  const targets = parseTargets(source.get(Inputs.Target))
  const sharding = parseShardSettings(source)
  const workspaceRoot = source.env.GITHUB_WORKSPACE || process.cwd()
  const backupDirRaw = source.get(Inputs.BackupDir).trim()
  if (targets.includes('directory') && !backupDirRaw) {
    fail(
      Inputs.BackupDir,
      'is empty but target includes directory',
      'expected a directory path on the runner, e.g. /srv/bitbucket-backup'
    )
  }
  const dryRun = parseBoolean(Inputs.DryRun, source.get(Inputs.DryRun), false)
  const runnerTemp = source.env.RUNNER_TEMP || path.join(workspaceRoot, '.bitbucket-backup-tmp')
  const workDir = path.join(runnerTemp, 'bitbucket-backup')
  const reportRaw = source.get(Inputs.Report).trim()
  return {
    workspaces,
    credential,
    apiUrl: apiUrl.href.replace(/\/+$/, ''),
    oauthTokenUrl,
    include: parseGlobs(Inputs.Include, source.get(Inputs.Include)),
    exclude: parseGlobs(Inputs.Exclude, source.get(Inputs.Exclude)),
    projects,
    targets,
    ...sharding,
    backupDir: backupDirRaw ? path.resolve(workspaceRoot, backupDirRaw) : '',
    concurrency: parseInteger(
      Inputs.Concurrency,
      source.get(Inputs.Concurrency),
      DEFAULT_CONCURRENCY,
      1,
      64
    ),
    lfs: parseBoolean(Inputs.Lfs, source.get(Inputs.Lfs), true),
    dryRun,
    cache: parseBoolean(Inputs.Cache, source.get(Inputs.Cache), true),
    cacheSizeLimitBytes: parseSize(
      Inputs.CacheSizeLimit,
      source.get(Inputs.CacheSizeLimit) || DEFAULT_CACHE_SIZE_LIMIT
    ),
    workDir,
    verify: parseBoolean(Inputs.Verify, source.get(Inputs.Verify), false),
    // Self-hosted jobs may run for up to 5 days; hosted ones for 6 hours.
    timeLimitSeconds: parseDuration(Inputs.TimeLimit, source.get(Inputs.TimeLimit), 120 * 3600),
    failOnIncomplete: parseBoolean(
      Inputs.FailOnIncomplete,
      source.get(Inputs.FailOnIncomplete),
      false
    ),
    reportPath: reportRaw
      ? path.resolve(workspaceRoot, reportRaw)
      : path.join(workDir, 'report.json'),
    artifact: {
      ...parseArtifactSettings(
        source,
        targets.includes('artifact') && !dryRun && sharding.mode === 'backup'
      ),
      ...(sharding.shard ? { shard: shardLabel(sharding.shard) } : {})
    },
    github: parseGitHubSettings(
      source,
      targets.includes('github') && !dryRun && sharding.mode === 'backup'
    )
  }
}
