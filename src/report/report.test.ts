import { afterAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { computeTotals, progressLine, publishReport, totalsLine, type RunTotals } from './report.js'
import type { RepositoryResult } from './results.js'
import { entryUrl } from '../shared/codes.js'
import { formatBytes } from '../shared/format.js'
import { createSlugFilter } from '../settings/selection.js'
import { captureToolkitOutput } from '../../testkit/results-service/toolkit-output.js'

const results: RepositoryResult[] = [
  {
    workspace: 'acme',
    slug: 'api',
    uuid: '{1}',
    status: 'backed-up',
    detail: 'cloned',
    refs: 14,
    lfsObjects: 3,
    bytes: 48_200_000,
    bytesFetched: 48_200_000,
    seconds: 3.14
  },
  {
    workspace: 'acme',
    slug: 'web',
    uuid: '{2}',
    status: 'unchanged',
    detail: '',
    refs: 1,
    lfsObjects: 0,
    bytes: 1000,
    seconds: 0.2
  },
  {
    workspace: 'acme',
    slug: 'secret|<b>',
    uuid: '{3}',
    status: 'failed',
    detail: 'access denied (HTTP 403)'
  }
]

/** The job summary publishReport writes; its outputs go to a file, its annotations to a muted stdout. */
// One folder for the file: the toolkit's summary keeps the path it first wrote to.
const summaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-report-'))
afterAll(() => fs.rmSync(summaryDir, { recursive: true, force: true }))

async function jobSummary(results: RepositoryResult[], totals: RunTotals): Promise<string> {
  const dir = summaryDir
  const files = {
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_OUTPUT: path.join(dir, 'output')
  }
  const before = { ...process.env }
  for (const [name, file] of Object.entries(files)) {
    fs.writeFileSync(file, '')
    process.env[name] = file
  }
  const output = captureToolkitOutput()
  try {
    await publishReport(results, totals, path.join(dir, 'report.json'))
    return fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8')
  } finally {
    output.restore()
    for (const name of Object.keys(files)) {
      if (before[name] === undefined) delete process.env[name]
      else process.env[name] = before[name]
    }
  }
}

describe('report', () => {
  it('prints one progress line per repository with refs, LFS objects, bytes and seconds', () => {
    expect(progressLine(1, 250, results[0])).toBe(
      '[1/250] acme/api: backed up: cloned (14 refs, 3 LFS objects, 48.2 MB, 3.1 s)'
    )
    expect(progressLine(2, 250, results[1])).toBe(
      '[2/250] acme/web: unchanged (1 ref, 0 LFS objects, 1.0 KB, 0.2 s)'
    )
  })

  it('totals every status and the REST requests', () => {
    const totals = computeTotals(results, 12.5, 3)
    expect(totals.byStatus).toMatchObject({ 'backed-up': 1, unchanged: 1, failed: 1, empty: 0 })
    expect(totalsLine(totals)).toBe(
      '3 repositories: 1 backed up, 1 unchanged, 1 failed; 48.2 MB fetched; 3 REST requests; 12.5 s'
    )
  })

  it('lists failures first in the job summary table and escapes markdown', async () => {
    const markdown = await jobSummary(results, computeTotals(results, 1, 3))
    const rows = markdown.split('\n').filter(line => line.startsWith('| acme/'))
    expect(rows[0]).toContain('failed')
    expect(rows[0]).toContain('acme/secret&#124;&#60;b&#62;')
    expect(rows).toHaveLength(3)
  })

  it('opens the job summary with a one-line verdict, naming the first failure', async () => {
    const failedFirst = await jobSummary(results, computeTotals(results, 1, 3))
    const verdict = (markdown: string) => markdown.split('\n')[2]
    expect(verdict(failedFirst)).toMatch(
      /^\*\*✗ 1 of 3 repositories not backed up\.\*\* First: acme\/secret/
    )
    const kept = results.filter(result => result.status !== 'failed')
    expect(verdict(await jobSummary(kept, computeTotals(kept, 1, 3)))).toBe(
      '**✓ All 2 repositories are backed up.**'
    )
    const later = [...kept, { ...kept[0], slug: 'later', status: 'deferred' as const }]
    expect(verdict(await jobSummary(later, computeTotals(later, 1, 3)))).toBe(
      '**! Nothing failed; 1 deferred to the next run.**'
    )
  })

  it("names the first failure's code in the verdict, linked to its catalogue entry, and in the JSON report", async () => {
    const verdict = (markdown: string) => markdown.split('\n')[2]
    const coded: RepositoryResult[] = [
      { ...results[2], slug: 'denied', code: 'GIT403', detail: 'access denied [GIT403]' },
      { ...results[2], slug: 'zz-later', code: 'DISK001', detail: 'the disk is full [DISK001]' }
    ]
    const line = verdict(await jobSummary(coded, computeTotals(coded, 1, 3)))
    expect(line).toBe(
      `**✗ 2 of 2 repositories not backed up.** First: acme/denied: access denied [GIT403](${entryUrl('GIT403')})`
    )
    expect(entryUrl('GIT403')).toMatch(/docs\/troubleshooting\.md#GIT403$/)
    // A failure whose result carries no code: the code its line names, else the generic one.
    const named = [{ ...results[2], detail: 'Bitbucket rejected it [BB401]' }]
    expect(verdict(await jobSummary(named, computeTotals(named, 1, 3)))).toContain('[BB401](')
    const bare = [{ ...results[2] }]
    expect(verdict(await jobSummary(bare, computeTotals(bare, 1, 3)))).toContain('[RUN001](')
    const report = JSON.parse(fs.readFileSync(path.join(summaryDir, 'report.json'), 'utf8'))
    expect(report.repositories[0].code).toBe('RUN001')
  })

  it('formats bytes in decimal units', () => {
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(1_500_000_000)).toBe('1.5 GB')
  })
})

describe('slug selection', () => {
  it('includes by glob, excludes win, and matching ignores case', () => {
    const matches = createSlugFilter(['api-*', 'web'], ['*-archive'])
    expect(['api-core', 'API-x', 'web', 'api-archive', 'docs'].filter(matches)).toEqual([
      'api-core',
      'API-x',
      'web'
    ])
    expect(createSlugFilter([], [])('anything')).toBe(true)
  })
})
