// One line for each way a GitHub mirror fails, naming the input or permission to change.
import { isInstallationToken } from '../../credentials/credentials.js'
import { GitError } from '../../git/git.js'
import type { GitHubSettings } from '../../settings/types.js'
import type { GitHubApiError } from '../../github/api.js'
import { PushRefusedError } from '../../git/push.js'
import { firstLineOf } from '../../shared/errors.js'
import { coded, ensureCoded } from '../../shared/codes.js'

const CREATE_PERMISSION =
  'a fine-grained token or GitHub App needs Administration: read and write on the owner; a classic token needs the repo scope and the right to create repositories there'

export const OWNER_PROBLEMS = {
  badToken: (settings: GitHubSettings) =>
    coded(
      'GH003',
      `github-token was rejected by ${settings.apiUrl} (Bad credentials); check that the secret holds a current token for that server`
    ),
  notFound: (settings: GitHubSettings) =>
    coded(
      'GH004',
      `github-owner "${settings.owner}" was not found on ${settings.apiUrl}; expected an existing organization or user login`
    ),
  otherUser: (settings: GitHubSettings, login: string | undefined) =>
    coded(
      'GH005',
      login === undefined
        ? `github-owner "${settings.owner}" is a user account and github-token is an installation token (a GitHub App's, or the workflow's own GITHUB_TOKEN), which cannot create repositories in a user account; use a personal access token of ${settings.owner}, or an organization`
        : `github-owner "${settings.owner}" is a user account other than the token's (${login}), so repositories cannot be created there; use a token of ${settings.owner}, or an organization`
    ),
  hidden: (settings: GitHubSettings, name: string) =>
    coded(
      'GH006',
      `${settings.owner}/${name} already exists on GitHub but github-token cannot see it; give the token access to it (a fine-grained token: Repository access "All repositories"), or choose another github-repository-name`
    )
}

export function creationRefused(settings: GitHubSettings, error: GitHubApiError): string {
  const said = `GitHub said: ${error.githubMessage}`
  if (isInstallationToken(settings.token)) {
    return coded(
      'GH005',
      `github-token may not create repositories in ${settings.owner} (${said}); the workflow's own GITHUB_TOKEN never can: use a GitHub App installation token or a personal access token (${CREATE_PERMISSION})`
    )
  }
  return coded(
    'GH005',
    `github-token may not create repositories in ${settings.owner} (${said}); ${CREATE_PERMISSION}`
  )
}

export function describeMirrorFailure(error: unknown, settings: GitHubSettings): string {
  if (error instanceof PushRefusedError) return error.message
  if (error instanceof GitError) {
    const text = `${error.message}\n${error.stderr}`
    if (/returned error: 401|Authentication failed|could not read Username/i.test(text)) {
      return coded(
        'GH003',
        'git push was not authenticated: github-token was rejected by the server'
      )
    }
    if (
      /returned error: 403|Permission to .* denied|Write access to repository not granted/i.test(
        text
      )
    ) {
      const hint = isInstallationToken(settings.token)
        ? "; the workflow's own GITHUB_TOKEN can only push to the workflow's repository"
        : ''
      return coded(
        'GH403',
        `github-token may not push to this repository (needs Contents: read and write)${hint}`
      )
    }
    return ensureCoded('GIT010', firstLineOf(error))
  }
  // A GitHub API answer this module has no words for: its own line, under GitHub's generic entry.
  return ensureCoded('GH010', firstLineOf(error))
}
