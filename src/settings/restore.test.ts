// The restore's inputs through the backup's parsers: the same booleans, the same one-line errors,
// secrets masked as they are read, everything checked before any network call.
import { describe, expect, it } from '@jest/globals'
import { SettingsError } from './parse.js'
import { parseRestoreRequest } from './restore.js'

const ENV = { GITHUB_REPOSITORY: 'acme/backups', GITHUB_API_URL: 'https://api.github.com' }

function parse(inputs: Record<string, string>, artifacts = true) {
  const masked: string[] = []
  const request = parseRestoreRequest(
    { get: name => inputs[name] ?? '', mask: secret => masked.push(secret), env: ENV },
    { artifacts, baseDir: '/runner/workspace' }
  )
  return { request, masked }
}

function failure(inputs: Record<string, string>): SettingsError {
  try {
    parse(inputs)
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError)
    return error as SettingsError
  }
  throw new Error('expected a SettingsError')
}

const TO = { to: '/restore/{slug}.git', 'github-token': 'ghs_workflow' }

describe('the restore inputs', () => {
  it('read overwrite as the backup reads a boolean: yes is true', () => {
    expect(parse({ ...TO, overwrite: 'yes' }).request.overwrite).toBe(true)
    expect(parse({ ...TO, overwrite: 'TRUE' }).request.overwrite).toBe(true)
    expect(parse({ ...TO, overwrite: 'no' }).request.overwrite).toBe(false)
    expect(parse(TO).request.overwrite).toBe(false)
    expect(failure({ ...TO, overwrite: 'maybe' }).message).toBe(
      'Input "overwrite": "maybe" is not a boolean; expected true or false. [IN001]'
    )
  })

  it('take concurrency with the backup default and bounds', () => {
    expect(parse(TO).request.concurrency).toBe(8)
    expect(parse({ ...TO, concurrency: '3' }).request.concurrency).toBe(3)
    expect(failure({ ...TO, concurrency: '0' }).message).toBe(
      'Input "concurrency": "0" is not a whole number from 1 to 64; expected e.g. 8. [IN001]'
    )
    expect(failure({ ...TO, concurrency: 'lots' }).parts).toEqual({
      input: 'concurrency',
      problem: '"lots" is not a whole number from 1 to 64',
      expected: 'expected e.g. 8',
      code: 'IN001'
    })
  })

  it('reject a bad time, run id, glob or API URL in one line naming the input', () => {
    expect(failure({ ...TO, at: 'yesterday' }).message).toBe(
      'Input "at": "yesterday" is not a time; expected e.g. 2026-11-20T00:00:00Z. [IN001]'
    )
    expect(failure({ ...TO, 'run-id': 'latest' }).message).toBe(
      'Input "run-id": "latest" is not a run id; expected the number in .../actions/runs/<id>. [IN001]'
    )
    expect(failure({ ...TO, repositories: 'api-[' }).message).toMatch(
      /^Input "repositories": "api-\[" has an unclosed bracket or brace; /
    )
    expect(failure({ ...TO, 'bitbucket-api-url': 'http://bb.example.com/2.0' }).message).toMatch(
      /^Input "bitbucket-api-url": .* does not use https; .* \[IN004\]$/
    )
  })

  it('read from: artifact with the workflow token, a GitHub owner, or a path on the runner', () => {
    expect(parse({ ...TO, 'run-id': '42' }).request.source).toEqual({
      kind: 'artifact',
      token: 'ghs_workflow',
      repository: 'acme/backups',
      apiUrl: 'https://api.github.com',
      runId: 42
    })
    expect(parse({ ...TO, from: 'github:acme-mirrors' }).request.source).toMatchObject({
      kind: 'github',
      owner: 'acme-mirrors'
    })
    expect(parse({ ...TO, from: 'backup' }).request.source).toEqual({
      kind: 'path',
      path: '/runner/workspace/backup'
    })
    // The command line has no artifact source: a folder may be called artifact.
    expect(parse({ ...TO, from: 'artifact' }, false).request.source.kind).toBe('path')
    expect(failure({ ...TO, from: 'github:' }).message).toMatch(
      /^Input "from": "github:" needs an owner; /
    )
    expect(failure({ to: '/x/{slug}.git' }).message).toBe(
      'Input "github-token": is empty; it reads the backup artifacts (actions: read). [IN002]'
    )
  })

  it('mask every secret and each age identity of a pasted key file', () => {
    const { request, masked } = parse({
      ...TO,
      'bitbucket-api-token': 'ATATT3xFfGF0-secret',
      'encryption-identity': '# created: today\nAGE-SECRET-KEY-1ONE\n\nAGE-SECRET-KEY-1TWO\n'
    })
    expect(request.keys.identities).toEqual(['AGE-SECRET-KEY-1ONE', 'AGE-SECRET-KEY-1TWO'])
    expect(masked).toEqual(
      expect.arrayContaining([
        'ghs_workflow',
        'ATATT3xFfGF0-secret',
        'AGE-SECRET-KEY-1ONE',
        'AGE-SECRET-KEY-1TWO'
      ])
    )
  })
})
