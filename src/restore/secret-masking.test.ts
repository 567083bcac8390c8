// Every form a secret leaves the process in is registered for masking before it is used: the raw
// value, and the Basic value git sends it in (the runner masks only the exact strings it was given).
import { describe, expect, it } from '@jest/globals'
import { openDestination, type DestinationRequest } from './request.js'
import { parseSettings } from '../settings/settings.js'

const basic = (user: string, secret: string) => Buffer.from(`${user}:${secret}`).toString('base64')

function restoreMasks(request: Partial<DestinationRequest>): string[] {
  const masked: string[] = []
  openDestination(
    {
      bitbucketApiUrl: 'https://api.bitbucket.org/2.0',
      githubApiUrl: 'https://api.github.com',
      secrets: {},
      ...request
    },
    () => undefined,
    secret => masked.push(secret)
  )
  return masked
}

describe('secret masking', () => {
  it("masks the github target's token and the Basic value git pushes with", () => {
    const masked: string[] = []
    const inputs: Record<string, string> = {
      workspace: 'acme',
      'bitbucket-access-token': 'ATCTT3xFfGF0-access',
      target: 'github',
      'github-token': 'ghp_mirror_secret',
      'github-owner': 'acme-mirrors'
    }
    parseSettings({
      get: name => inputs[name] ?? '',
      mask: secret => masked.push(secret),
      env: { GITHUB_WORKSPACE: '/work/ws', RUNNER_TEMP: '/runner/temp' }
    })
    expect(masked).toEqual(
      expect.arrayContaining(['ghp_mirror_secret', basic('x-access-token', 'ghp_mirror_secret')])
    )
  })

  it('masks what the restore action sends to each kind of destination', () => {
    expect(
      restoreMasks({
        to: 'https://git.example.com/{slug}.git',
        secrets: { toUsername: 'restorer', toPassword: 'to-password-secret' }
      })
    ).toEqual(
      expect.arrayContaining(['to-password-secret', basic('restorer', 'to-password-secret')])
    )
    expect(
      restoreMasks({
        bitbucketWorkspace: 'acme-restored',
        secrets: { bitbucketEmail: 'jane@example.com', bitbucketApiToken: 'ATATT3xFfGF0-restore' }
      })
    ).toEqual(
      expect.arrayContaining([
        'ATATT3xFfGF0-restore',
        basic('jane@example.com', 'ATATT3xFfGF0-restore'),
        basic('x-bitbucket-api-token-auth', 'ATATT3xFfGF0-restore')
      ])
    )
    expect(
      restoreMasks({ githubOwner: 'acme-restored', secrets: { githubToken: 'ghp_restore_secret' } })
    ).toEqual(
      expect.arrayContaining(['ghp_restore_secret', basic('x-access-token', 'ghp_restore_secret')])
    )
  })
})
