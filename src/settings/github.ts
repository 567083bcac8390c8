// Inputs of the GitHub mirror target: token, owner, API, mirror names and the server's limits.
import {
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITHUB_FILE_SIZE_LIMIT,
  DEFAULT_GITHUB_PUSH_SIZE_LIMIT,
  DEFAULT_GITHUB_REPOSITORY_NAME,
  Inputs
} from '../shared/constants.js'
import { maskGitHubToken } from '../credentials/credentials.js'
import {
  fail,
  parseBoolean,
  parseInteger,
  parseSize,
  parseUrl,
  readSecret,
  type InputSource
} from './parse.js'
import type { GitHubSettings, GitHubVisibility } from './types.js'

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
const PLACEHOLDERS = ['{workspace}', '{slug}', '{project}'] as const
const VISIBILITIES: readonly GitHubVisibility[] = ['private', 'internal', 'public']
/** GitHub repository names: letters, digits, `-`, `_` and `.`, at most 100 characters. */
export const GITHUB_REPOSITORY_NAME = /^[A-Za-z0-9._-]{1,100}$/

/** The mirror's name for one Bitbucket repository. */
export function mirrorName(
  template: string,
  repository: { workspace: string; slug: string; projectKey: string | null }
): string {
  return template
    .replaceAll('{workspace}', repository.workspace)
    .replaceAll('{slug}', repository.slug)
    .replaceAll('{project}', repository.projectKey ?? 'none')
}

function parseNameTemplate(raw: string): string {
  const template = raw.trim() || DEFAULT_GITHUB_REPOSITORY_NAME
  const expected =
    'expected a name with {slug}, optionally {workspace} and {project}, e.g. bb-{workspace}-{slug}'
  if (!template.includes('{slug}')) {
    fail(
      Inputs.GitHubRepositoryName,
      `"${template}" has no {slug}, so mirrors would collide`,
      expected
    )
  }
  let literal = template
  for (const placeholder of PLACEHOLDERS) literal = literal.replaceAll(placeholder, 'x')
  if (!/^[A-Za-z0-9._-]+$/.test(literal)) {
    fail(
      Inputs.GitHubRepositoryName,
      `"${template}" has characters GitHub does not allow in a repository name`,
      `${expected}; only letters, digits, "-", "_" and "." around the placeholders`
    )
  }
  return template
}

export function parseGitHubSettings(
  source: InputSource,
  wanted: boolean
): GitHubSettings | undefined {
  const token = readSecret(source, Inputs.GitHubToken)
  if (token) maskGitHubToken(token, source.mask)
  if (!wanted) return undefined
  if (!token) {
    fail(
      Inputs.GitHubToken,
      'is empty but target includes github',
      "pass a personal access token or a GitHub App installation token from secrets (the workflow's own GITHUB_TOKEN cannot create repositories)",
      'IN002'
    )
  }
  const owner = source.get(Inputs.GitHubOwner).trim()
  if (!owner) {
    fail(
      Inputs.GitHubOwner,
      'is empty but target includes github',
      'expected the organization or user that will own the mirrors, e.g. my-org',
      'IN002'
    )
  }
  if (!OWNER.test(owner)) {
    fail(
      Inputs.GitHubOwner,
      `"${owner}" is not a GitHub login`,
      'expected an organization or user name (letters, digits and single hyphens)'
    )
  }
  const apiUrl = parseUrl(
    Inputs.GitHubApiUrl,
    source.get(Inputs.GitHubApiUrl).trim() || DEFAULT_GITHUB_API_URL
  )
  const visibility = (source.get(Inputs.GitHubVisibility).trim().toLowerCase() ||
    'private') as GitHubVisibility
  if (!VISIBILITIES.includes(visibility)) {
    fail(
      Inputs.GitHubVisibility,
      `"${visibility}" is not a visibility`,
      `expected one of ${VISIBILITIES.join(', ')}`
    )
  }
  return {
    token,
    owner,
    apiUrl: apiUrl.href.replace(/\/+$/, ''),
    nameTemplate: parseNameTemplate(source.get(Inputs.GitHubRepositoryName)),
    visibility,
    overwrite: parseBoolean(Inputs.GitHubOverwrite, source.get(Inputs.GitHubOverwrite), false),
    maxPushBytes: parseSize(
      Inputs.GitHubPushSizeLimit,
      source.get(Inputs.GitHubPushSizeLimit) || DEFAULT_GITHUB_PUSH_SIZE_LIMIT
    ),
    maxFileBytes: parseSize(
      Inputs.GitHubFileSizeLimit,
      source.get(Inputs.GitHubFileSizeLimit) || DEFAULT_GITHUB_FILE_SIZE_LIMIT
    ),
    refsPerPush: parseInteger(
      Inputs.GitHubRefsPerPush,
      source.get(Inputs.GitHubRefsPerPush),
      0,
      0,
      100_000
    )
  }
}
