import { describe, expect, it } from '@jest/globals'
import { parseSettings, SettingsError, splitList, parseSize } from './settings.js'

const baseInputs = {
  workspace: 'acme',
  'bitbucket-email': 'jane@example.com',
  'bitbucket-api-token': 'ATATT3xFfGF0-secret-token',
  target: 'directory',
  'backup-dir': 'backups',
  'dry-run': 'true'
}

const GITHUB = {
  target: 'github',
  'dry-run': 'false',
  'github-token': 'ghp_secret',
  'github-owner': 'acme-mirrors'
}

function parse(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const masked: string[] = []
  const settings = parseSettings({
    get: name => inputs[name] ?? '',
    mask: secret => masked.push(secret),
    env: { GITHUB_WORKSPACE: '/work/ws', RUNNER_TEMP: '/runner/temp', ...env }
  })
  return { settings, masked }
}

function errorOf(inputs: Record<string, string>): string {
  try {
    parse(inputs)
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError)
    return (error as Error).message
  }
  throw new Error('expected a SettingsError')
}

describe('parseSettings', () => {
  it('keeps pull requests and Downloads within 900 REST requests an hour unless told otherwise', () => {
    expect(parse(baseInputs).settings.metadata).toEqual({
      kinds: ['pull-requests', 'downloads'],
      restBudget: 900
    })
    const all = parse({ ...baseInputs, metadata: 'ALL', 'rest-budget': '5000' }).settings
    expect(all.metadata).toEqual({
      kinds: ['pull-requests', 'downloads', 'snippets', 'settings'],
      restBudget: 5000
    })
    expect(parse({ ...baseInputs, metadata: 'none' }).settings.metadata.kinds).toEqual([])
    expect(
      parse({ ...baseInputs, metadata: 'downloads\nsnippets' }).settings.metadata.kinds
    ).toEqual(['downloads', 'snippets'])
  })

  it('turns valid inputs into one typed settings object with defaults', () => {
    const { settings } = parse({ ...baseInputs, workspace: 'acme, beta\nacme' })
    expect(settings).toMatchObject({
      workspaces: ['acme', 'beta'],
      credential: {
        kind: 'api-token',
        email: 'jane@example.com',
        token: 'ATATT3xFfGF0-secret-token'
      },
      apiUrl: 'https://api.bitbucket.org/2.0',
      oauthTokenUrl: 'https://bitbucket.org/site/oauth2/access_token',
      targets: ['directory'],
      backupDir: '/work/ws/backups',
      concurrency: 8,
      lfs: true,
      dryRun: true,
      cache: true,
      cacheSizeLimitBytes: 8e9,
      workDir: '/runner/temp/bitbucket-backup',
      reportPath: '/runner/temp/bitbucket-backup/report.json'
    })
  })

  it('masks every secret as soon as it is read', () => {
    expect(parse(baseInputs).masked).toEqual(['ATATT3xFfGF0-secret-token'])
    const oauth = parse({
      workspace: 'acme',
      'bitbucket-oauth-client-id': 'client-key',
      'bitbucket-oauth-client-secret': 'client-secret',
      target: 'directory',
      'backup-dir': '/b',
      'dry-run': 'true'
    })
    expect(oauth.masked).toEqual(['client-key', 'client-secret'])
    expect(oauth.settings.credential).toEqual({
      kind: 'oauth',
      clientId: 'client-key',
      clientSecret: 'client-secret'
    })
  })

  it('accepts an access token and derives the OAuth URL of a self-hosted API origin', () => {
    const { settings } = parse({
      workspace: 'acme',
      'bitbucket-access-token': 'ATCTT-token',
      'bitbucket-api-url': 'http://127.0.0.1:8080/2.0/',
      target: 'directory',
      'backup-dir': '/b',
      'dry-run': 'true'
    })
    expect(settings.credential).toEqual({ kind: 'access-token', token: 'ATCTT-token' })
    expect(settings.apiUrl).toBe('http://127.0.0.1:8080/2.0')
    expect(settings.oauthTokenUrl).toBe('http://127.0.0.1:8080/site/oauth2/access_token')
  })

  it.each([
    [{ workspace: '' }, 'Input "workspace": is empty; expected one or more workspace slugs'],
    [{ workspace: 'acme corp' }, 'Input "workspace": "acme corp" is not a workspace slug'],
    [
      { 'bitbucket-api-token': '', 'bitbucket-email': '' },
      'Input "bitbucket-api-token": no Bitbucket credential was given'
    ],
    [{ 'bitbucket-email': 'jane' }, 'Input "bitbucket-email": "jane" is not an email address'],
    [{ 'bitbucket-email': '' }, 'Input "bitbucket-email": is empty'],
    [{ 'bitbucket-api-token': '' }, 'Input "bitbucket-api-token": is empty'],
    [
      { 'bitbucket-api-token': 'ATBBxyz123' },
      'Input "bitbucket-api-token": this is an app password'
    ],
    [{ 'bitbucket-access-token': 'ATCTT' }, 'more than one kind of credential was given'],
    [
      { 'bitbucket-git-username': 'jane@example.com' },
      'Input "bitbucket-git-username": git rejects an email'
    ],
    [
      { 'bitbucket-api-url': 'http://api.example.com/2.0' },
      'Input "bitbucket-api-url": "http://api.example.com/2.0" does not use https'
    ],
    [{ 'bitbucket-api-url': 'not a url' }, 'Input "bitbucket-api-url": "not a url" is not a URL'],
    [
      { 'bitbucket-api-url': 'https://u:p@api.bitbucket.org/2.0' },
      'the URL contains a user name or password'
    ],
    [
      { target: 'tape' },
      'Input "target": "tape" is not a target; expected one or more of artifact, github, directory'
    ],
    [
      { target: 'github', 'dry-run': 'false' },
      'Input "github-token": is empty but target includes github; pass a personal access token or a GitHub App installation token from secrets'
    ],
    [
      { target: 'github', 'dry-run': 'false', 'github-token': 'ghp_x' },
      'Input "github-owner": is empty but target includes github'
    ],
    [
      { target: 'github', 'dry-run': 'false', 'github-token': 'ghp_x', 'github-owner': 'my org' },
      'Input "github-owner": "my org" is not a GitHub login'
    ],
    [
      { ...GITHUB, 'github-repository-name': 'mirror' },
      'Input "github-repository-name": "mirror" has no {slug}, so mirrors would collide'
    ],
    [
      { ...GITHUB, 'github-repository-name': 'bb/{slug}' },
      'Input "github-repository-name": "bb/{slug}" has characters GitHub does not allow'
    ],
    [
      { ...GITHUB, 'github-visibility': 'secret' },
      'Input "github-visibility": "secret" is not a visibility; expected one of private, internal, public'
    ],
    [
      { ...GITHUB, 'github-api-url': 'http://ghe.example.com/api/v3' },
      'Input "github-api-url": "http://ghe.example.com/api/v3" does not use https'
    ],
    [
      { ...GITHUB, 'github-push-size-limit': 'big' },
      'Input "github-push-size-limit": "big" is not a size'
    ],
    [{ 'backup-dir': '' }, 'Input "backup-dir": is empty but target includes directory'],
    [{ concurrency: 'lots' }, 'Input "concurrency": "lots" is not a whole number from 1 to 64'],
    [{ concurrency: '0' }, 'Input "concurrency": "0" is not a whole number from 1 to 64'],
    [{ lfs: 'maybe' }, 'Input "lfs": "maybe" is not a boolean; expected true or false'],
    [{ projects: 'A"B' }, 'Input "projects": "A"B" is not a project key'],
    [{ include: 'api-[' }, 'Input "include": "api-[" has an unclosed bracket or brace'],
    [{ 'cache-size-limit': 'huge' }, 'Input "cache-size-limit": "huge" is not a size'],
    [
      { 'retention-days': '120' },
      'Input "retention-days": "120" is not a whole number from 1 to 90'
    ],
    [
      { 'artifact-limit': '501' },
      'Input "artifact-limit": "501" is not a whole number from 2 to 500'
    ],
    [
      { 'encryption-recipients': 'age1notakey' },
      'Input "encryption-recipients": "age1notakey" is not a valid age public key'
    ],
    [
      { 'encryption-recipients': 'ssh-ed25519 AAAA' },
      'Input "encryption-recipients": "ssh-ed25519" is not an age public key'
    ],
    [{ 'encryption-passphrase': 'short' }, 'Input "encryption-passphrase": is shorter than 16'],
    [
      { metadata: 'pull-requests, issues' },
      'Input "metadata": "issues" is not something Bitbucket keeps beyond git; expected pull-requests, downloads, snippets, settings, all or none'
    ],
    [{ metadata: 'none, downloads' }, 'Input "metadata": "none" is given with other words'],
    [{ 'rest-budget': '5' }, 'Input "rest-budget": "5" is not a whole number from 10 to 100000'],
    [
      {
        'encryption-passphrase': 'a-long-enough-passphrase',
        'encryption-recipients': 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'
      },
      'Input "encryption-recipients": is set together with encryption-passphrase'
    ]
  ])('rejects %j with one line naming the input', (override, expected) => {
    const message = errorOf({ ...baseInputs, ...override })
    expect(message).toContain(expected)
    expect(message).not.toContain('\n')
  })

  it('refuses the artifact target on GitHub Enterprise Server, naming the targets that work there', () => {
    const inputs = { ...baseInputs, target: 'artifact', 'dry-run': 'false' }
    expect(() => parse(inputs, { GITHUB_SERVER_URL: 'https://github.example.com' })).toThrow(
      'Input "target": artifact is not available on GitHub Enterprise Server (https://github.example.com); use target: github or directory there.'
    )
    expect(parse(inputs, { GITHUB_SERVER_URL: 'https://github.com' }).settings.targets).toEqual([
      'artifact'
    ])
  })

  it('masks the encryption passphrase and caps retention at the repository setting', () => {
    const { settings, masked } = parse(
      {
        ...baseInputs,
        'encryption-passphrase': 'a-long-enough-passphrase',
        'retention-days': '60'
      },
      { GITHUB_RETENTION_DAYS: '30' }
    )
    expect(masked).toContain('a-long-enough-passphrase')
    expect(settings.artifact.retentionDays).toBe(30)
    expect(settings.artifact.encryption).toEqual({
      passphrase: 'a-long-enough-passphrase',
      recipients: []
    })
  })

  it('never echoes a secret in an error message', () => {
    const message = errorOf({ ...baseInputs, 'bitbucket-api-token': 'ATBBsecretvalue' })
    expect(message).not.toContain('ATBBsecretvalue')
  })
})

describe('list and size parsing', () => {
  it('splits on commas and new lines, trims and deduplicates', () => {
    expect(splitList(' a, b\n\nc ,a ')).toEqual(['a', 'b', 'c'])
  })

  it('reads decimal sizes', () => {
    expect(parseSize('x', '500MB')).toBe(5e8)
    expect(parseSize('x', '1.5 GB')).toBe(1.5e9)
    expect(parseSize('x', '1024')).toBe(1024)
  })

  it('reads the github target inputs, masks the token and applies GitHub.com limits', () => {
    const { settings, masked } = parse({ ...baseInputs, ...GITHUB })
    expect(masked).toContain('ghp_secret')
    expect(settings.github).toEqual({
      token: 'ghp_secret',
      owner: 'acme-mirrors',
      apiUrl: 'https://api.github.com',
      nameTemplate: '{slug}',
      visibility: 'private',
      overwrite: false,
      maxPushBytes: 2e9,
      maxFileBytes: 100e6,
      refsPerPush: 0
    })
    const ghes = parse({
      ...baseInputs,
      ...GITHUB,
      'github-api-url': 'https://ghe.example.com/api/v3/',
      'github-repository-name': 'bb-{workspace}-{slug}',
      'github-visibility': 'Internal',
      'github-refs-per-push': '5'
    }).settings.github
    expect(ghes).toMatchObject({
      apiUrl: 'https://ghe.example.com/api/v3',
      nameTemplate: 'bb-{workspace}-{slug}',
      visibility: 'internal',
      refsPerPush: 5
    })
    expect(parse({ ...baseInputs, 'github-token': 'ghp_other' }).masked).toContain('ghp_other')
  })
})
