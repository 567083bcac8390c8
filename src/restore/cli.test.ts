// The command line reads its arguments and environment through the restore action's parser, and
// says each problem in its own words: the flag or the variable, then the usage, exit code 2.
import { describe, expect, it } from '@jest/globals'
import { runRestoreCli } from './cli.js'

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = []
  const code = await runRestoreCli(argv, env, line => lines.push(line))
  return { code, first: lines[0], output: lines.join('\n') }
}

const TO = ['--to', '/tmp/never/{slug}.git']

describe('the restore command line', () => {
  it('names the flag of a bad value, as before, then the usage', async () => {
    const at = await cli(['--from', '/nowhere', ...TO, '--at', 'yesterday'])
    expect(at.code).toBe(2)
    expect(at.first).toBe(
      'restore: --at "yesterday" is not a time; expected e.g. 2026-11-20T00:00:00Z [IN001]'
    )
    expect(at.output).toMatch(/^Usage: node dist\/index\.js restore/m)
    const concurrency = await cli(['--from', '/nowhere', ...TO, '--concurrency', '0'])
    expect(concurrency.first).toBe(
      'restore: --concurrency "0" is not a whole number from 1 to 64; expected e.g. 8 [IN001]'
    )
    expect((await cli(TO)).first).toMatch(/^restore: --from is required; /)
  })

  it('names the environment variable of a missing secret', async () => {
    const run = await cli(['--from', 'github:acme-mirrors', ...TO])
    expect(run.code).toBe(2)
    expect(run.first).toBe(
      'restore: GITHUB_TOKEN is empty; it reads the mirrors of github:acme-mirrors (contents: read) [IN002]'
    )
  })

  it('refuses before reading any backup when no destination is given', async () => {
    const run = await cli(['--from', '/nowhere'])
    expect(run.code).toBe(2)
    expect(run.first).toBe(
      'restore: give exactly one of --to, --bitbucket-workspace, --github-owner [RS006]'
    )
  })
})
