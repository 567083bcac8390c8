// Failing runs for real: the action (from src/, through testkit/source-entry.mjs) against the local
// Bitbucket prints a line ending with a code, and that code leads to the entry of
// docs/troubleshooting.md that explains this failure.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorLines, projectRoot, runAction, sourceEntry } from '../testkit/action-runner.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { workingCopy } from '../testkit/bitbucket/fixtures.js'
import { entryFor, type CatalogueEntry } from '../testkit/error-catalogue.js'
import { CODES, entryUrl, type Code } from '../src/shared/codes.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0catalogue-secret'
const catalogue = fs.readFileSync(path.join(projectRoot, 'docs', 'troubleshooting.md'), 'utf8')

let bb: LocalBitbucket
let base: string

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    workspace: 'acme',
    'bitbucket-api-url': bb.apiUrl,
    'bitbucket-email': EMAIL,
    'bitbucket-api-token': API_TOKEN,
    target: 'directory',
    'backup-dir': 'backup',
    cache: 'false',
    ...extra
  }
}

async function runFromSource(extra: Record<string, string>) {
  const runnerDir = fs.mkdtempSync(path.join(base, 'runner-'))
  return runAction(inputs(extra), {
    entry: sourceEntry,
    runnerDir,
    env: { RUNNER_ENVIRONMENT: 'self-hosted' }
  })
}

/** The code a printed line ends with. */
function codeAtEnd(line: string): string | undefined {
  return /\[([A-Z]{2,5}\d{3})\]$/.exec(line)?.[1]
}

/** The entry `troubleshooting.md#CODE` opens: anchored, titled as the registry says. */
function entryOf(code: string): CatalogueEntry {
  const entry = entryFor(catalogue, code)
  expect(entry).toBeDefined()
  expect(entry!.title).toBe(CODES[code as Code])
  expect(entry!.body).toMatch(/\*\*Means:\*\*.*\*\*Fix:\*\*/)
  return entry!
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-catalogue-'))
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  for (const slug of ['app', 'secret']) {
    bb.addRepository('acme', slug, { denyGit: slug === 'secret' })
    const wc = await workingCopy(bb, 'acme', slug)
    wc.write('README.md', `# ${slug}\n`)
    await wc.commit(slug)
    await wc.push()
  }
}, 120_000)

afterAll(async () => {
  await bb?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('a printed code leads to its entry', () => {
  it('a bad input: IN001, before any request', async () => {
    bb.clearRequests()
    const run = await runFromSource({ concurrency: 'lots' })
    expect(run.exitCode).toBe(1)
    const [line] = errorLines(run)
    expect(line).toMatch(/^Input "concurrency": "lots" is not a whole number/)
    expect(codeAtEnd(line)).toBe('IN001')
    expect(bb.requests).toHaveLength(0)
    expect(entryOf('IN001').body).toContain('a value meant for another input')
  }, 60_000)

  it('a wrong API token: BB401, the entry on a rejected credential', async () => {
    const run = await runFromSource({ 'bitbucket-api-token': 'ATATT3xFfGF0not-the-token' })
    expect(run.exitCode).toBe(1)
    const lines = errorLines(run)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/401/)
    expect(codeAtEnd(lines[0])).toBe('BB401')
    expect(entryOf('BB401').body).toContain('bitbucket-email')
  }, 60_000)

  it('a repository git may not read: GIT403 in its line, the verdict, the step and the report', async () => {
    const run = await runFromSource({})
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ 'backed-up': '1', failed: '1' })
    const lines = errorLines(run)
    const repository = lines.find(line => line.startsWith('acme/secret: '))
    expect(repository).toBeDefined()
    expect(codeAtEnd(repository!)).toBe('GIT403')
    // The step's last line and the summary's verdict lead to the first failure's entry.
    expect(codeAtEnd(lines.at(-1)!)).toBe('GIT403')
    const verdict = run.summary.split('\n').find(line => line.startsWith('**✗'))
    expect(verdict).toContain(`[GIT403](${entryUrl('GIT403')})`)
    const report = JSON.parse(fs.readFileSync(run.outputs.report, 'utf8'))
    const failed = report.repositories.find((r: { slug: string }) => r.slug === 'secret')
    expect(failed.code).toBe('GIT403')
    expect(entryOf('GIT403').body).toContain('grant read access')
  }, 120_000)
})
