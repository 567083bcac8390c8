// Input and output names: the action's public contract, kept in one place and checked against action.yml.

export const Inputs = {
  Workspace: 'workspace',
  Email: 'bitbucket-email',
  ApiToken: 'bitbucket-api-token',
  GitUsername: 'bitbucket-git-username',
  AccessToken: 'bitbucket-access-token',
  OAuthClientId: 'bitbucket-oauth-client-id',
  OAuthClientSecret: 'bitbucket-oauth-client-secret',
  ApiUrl: 'bitbucket-api-url',
  OAuthTokenUrl: 'bitbucket-oauth-token-url',
  Include: 'include',
  Exclude: 'exclude',
  Projects: 'projects',
  Target: 'target',
  BackupDir: 'backup-dir',
  Concurrency: 'concurrency',
  Lfs: 'lfs',
  DryRun: 'dry-run',
  Cache: 'cache',
  CacheSizeLimit: 'cache-size-limit',
  Report: 'report-path',
  RetentionDays: 'retention-days',
  ArtifactLimit: 'artifact-limit',
  EncryptionPassphrase: 'encryption-passphrase',
  EncryptionRecipients: 'encryption-recipients',
  Verify: 'verify',
  TimeLimit: 'time-limit',
  FailOnIncomplete: 'fail-on-incomplete',
  Mode: 'mode',
  Shards: 'shards',
  Shard: 'shard',
  GitHubToken: 'github-token',
  GitHubOwner: 'github-owner',
  GitHubApiUrl: 'github-api-url',
  GitHubRepositoryName: 'github-repository-name',
  GitHubVisibility: 'github-visibility',
  GitHubOverwrite: 'github-overwrite',
  GitHubPushSizeLimit: 'github-push-size-limit',
  GitHubFileSizeLimit: 'github-file-size-limit',
  GitHubRefsPerPush: 'github-refs-per-push',
  Metadata: 'metadata',
  RestBudget: 'rest-budget'
} as const

export const Outputs = {
  Repositories: 'repositories',
  BackedUp: 'backed-up',
  Unchanged: 'unchanged',
  Empty: 'empty',
  Failed: 'failed',
  Incomplete: 'incomplete',
  Deferred: 'deferred',
  Report: 'report',
  Matrix: 'matrix'
} as const

/** What a repository holds beyond git that a backup keeps unless the metadata input says otherwise. */
export const DEFAULT_METADATA = 'pull-requests, downloads'
/** REST requests per hour this action may spend: a tenth of Bitbucket's 1,000 stays for others. */
export const DEFAULT_REST_BUDGET = 900

export const DEFAULT_API_URL = 'https://api.bitbucket.org/2.0'
export const DEFAULT_CONCURRENCY = 8

/**
 * Ref checks wait on one small round trip each, transfers on bandwidth and CPU: more checks than
 * transfers are in flight (measured in docs/benchmarks.md), never more than this many.
 */
const CHECKS_PER_TRANSFER = 4
const MAX_CHECKS = 64

/** How many repositories' refs are checked at once for a given `concurrency` input. */
export function checkConcurrency(concurrency: number): number {
  return Math.max(concurrency, Math.min(MAX_CHECKS, CHECKS_PER_TRANSFER * concurrency))
}
export const DEFAULT_CACHE_SIZE_LIMIT = '8GB'
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com'
export const DEFAULT_GITHUB_REPOSITORY_NAME = '{slug}'
/** GitHub.com refuses a push whose pack is over 2 GB and any file over 100 MB. */
export const DEFAULT_GITHUB_PUSH_SIZE_LIMIT = '2GB'
export const DEFAULT_GITHUB_FILE_SIZE_LIMIT = '100MB'
