// Action inputs → one typed, validated Settings; every problem is one line naming the input and the fix.
import * as path from 'node:path'
import { DEFAULT_CACHE_SIZE_LIMIT, DEFAULT_CONCURRENCY, Inputs } from '../shared/constants.js'
import { parseBitbucketEndpoints, parseCredential } from './credential.js'
import { parseProjects, parseWorkspaces } from './scope.js'
import { parseBackupDir, parseTargets } from './targets.js'
import { parseArtifactSettings } from './artifact.js'
import { parseGitHubSettings } from './github.js'
import { parseShardSettings } from './shard.js'
import { parseMetadataSettings } from './metadata.js'
import { shardLabel } from './shard.js'
import type { Settings } from './types.js'
import {
  parseBoolean,
  parseDuration,
  parseGlobs,
  parseInteger,
  parseSize,
  type InputSource
} from './parse.js'

export { SettingsError, splitList, parseSize, type InputSource } from './parse.js'

/** Reads and validates every input; throws SettingsError before anything touches the network. */
export function parseSettings(source: InputSource): Settings {
  const workspaces = parseWorkspaces(source.get(Inputs.Workspace))
  const credential = parseCredential(source)
  const { apiUrl, oauthTokenUrl } = parseBitbucketEndpoints(source)
  const projects = parseProjects(source.get(Inputs.Projects))
  const targets = parseTargets(source.get(Inputs.Target))
  const sharding = parseShardSettings(source)
  const workspaceRoot = source.env.GITHUB_WORKSPACE || process.cwd()
  const backupDirRaw = parseBackupDir(source, targets)
  const dryRun = parseBoolean(Inputs.DryRun, source.get(Inputs.DryRun), false)
  const runnerTemp = source.env.RUNNER_TEMP || path.join(workspaceRoot, '.bitbucket-backup-tmp')
  const workDir = path.join(runnerTemp, 'bitbucket-backup')
  const reportRaw = source.get(Inputs.Report).trim()
  return {
    workspaces,
    credential,
    apiUrl,
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
    ),
    metadata: parseMetadataSettings(source)
  }
}
