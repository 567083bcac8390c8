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
  EncryptionRecipients: 'encryption-recipients'
} as const

export const Outputs = {
  Repositories: 'repositories',
  BackedUp: 'backed-up',
  Unchanged: 'unchanged',
  Empty: 'empty',
  Failed: 'failed',
  Report: 'report'
} as const

export const DEFAULT_API_URL = 'https://api.bitbucket.org/2.0'
export const DEFAULT_CONCURRENCY = 8
export const DEFAULT_CACHE_SIZE_LIMIT = '8GB'
