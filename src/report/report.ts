// Progress lines, the job summary, step outputs and the JSON report; it only reads results.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import { coded, ensureCoded, entryUrl, withoutCode } from '../shared/codes.js'
import { Outputs } from '../shared/constants.js'
import { formatBytes } from '../shared/format.js'
import { resultCode, type RepositoryResult, type RepositoryStatus } from './results.js'

export interface RunTotals {
  repositories: number
  byStatus: Record<RepositoryStatus, number>
  bytesFetched: number
  seconds: number
  restRequests: number
}

const STATUS_LABELS: Record<RepositoryStatus, string> = {
  'backed-up': 'backed up',
  incomplete: 'incomplete',
  unchanged: 'unchanged',
  empty: 'empty',
  failed: 'failed',
  deferred: 'deferred',
  skipped: 'skipped',
  'no-longer-listed': 'no longer listed',
  listed: 'listed (dry run)'
}

function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`
}

/** `[k/n] workspace/slug: <what happened> (<refs>, <LFS objects>, <bytes>, <seconds>)` */
export function progressLine(index: number, total: number | undefined, result: RepositoryResult) {
  const facts: string[] = []
  if (result.refs !== undefined) facts.push(plural(result.refs, 'ref'))
  if (result.lfsObjects !== undefined) facts.push(plural(result.lfsObjects, 'LFS object'))
  if (result.bytes !== undefined) facts.push(formatBytes(result.bytes))
  if (result.seconds !== undefined) facts.push(`${result.seconds.toFixed(1)} s`)
  const metadata = result.metadata
  if (metadata?.pullRequests)
    facts.push(`${plural(metadata.pullRequests, 'pull request')} archived`)
  if (metadata?.downloads) facts.push(`${plural(metadata.downloads, 'Download')} fetched`)
  if (metadata?.snippetComments)
    facts.push(`${plural(metadata.snippetComments, 'snippet comment')} archived`)
  if (metadata?.deferred) facts.push('metadata deferred')
  const counter = `[${index}/${total ?? '?'}]`
  const what = result.detail
    ? `${STATUS_LABELS[result.status]}: ${result.detail}`
    : STATUS_LABELS[result.status]
  return `${counter} ${result.workspace}/${result.slug}: ${what}${facts.length ? ` (${facts.join(', ')})` : ''}`
}

export function computeTotals(
  results: RepositoryResult[],
  seconds: number,
  restRequests: number
): RunTotals {
  const byStatus = Object.fromEntries(
    Object.keys(STATUS_LABELS).map(status => [status, 0])
  ) as Record<RepositoryStatus, number>
  for (const result of results) byStatus[result.status]++
  const bytesFetched = results.reduce((sum, result) => sum + (result.bytesFetched ?? 0), 0)
  return { repositories: results.length, byStatus, bytesFetched, seconds, restRequests }
}

export function totalsLine(totals: RunTotals): string {
  const parts = (Object.keys(STATUS_LABELS) as RepositoryStatus[])
    .filter(status => totals.byStatus[status] > 0)
    .map(status => `${totals.byStatus[status]} ${STATUS_LABELS[status]}`)
  return (
    `${plural(totals.repositories, 'repository', 'repositories')}: ` +
    `${parts.join(', ') || 'nothing to do'}; ${formatBytes(totals.bytesFetched)} fetched; ` +
    `${plural(totals.restRequests, 'REST request')}; ${totals.seconds.toFixed(1)} s`
  )
}

function escapeCell(text: string): string {
  return text.replace(/[|<>&]/g, char => `&#${char.charCodeAt(0)};`).replace(/\n/g, ' ')
}

/**
 * @param notes lines under the totals: the time budget, the disk, what was deferred
 */
/**
 * The summary's first line: whether everything is kept, and where to look first when not: the
 * first failure, with its code linked to the entry that says what to do.
 */
export function verdictLine(results: RepositoryResult[], totals: RunTotals): string {
  const count = (status: RepositoryStatus) => totals.byStatus[status]
  const failed = results.find(result => result.status === 'failed')
  if (failed) {
    const code = resultCode(failed)!
    const first = `${failed.workspace}/${failed.slug}: ${withoutCode(failed.detail.split('\n')[0])}`
    return `**✗ ${count('failed')} of ${totals.repositories} repositories not backed up.** First: ${escapeCell(first)} [${code}](${entryUrl(code)})`
  }
  if (count('listed') > 0)
    return `**Dry run: ${count('listed')} repositories listed, nothing backed up.**`
  const also = [
    count('incomplete')
      ? `${count('incomplete')} incomplete (LFS objects missing on Bitbucket)`
      : '',
    count('deferred') ? `${count('deferred')} deferred to the next run` : '',
    count('skipped') ? `${count('skipped')} skipped` : ''
  ].filter(Boolean)
  if (also.length) return `**! Nothing failed; ${also.join(', ')}.**`
  return `**✓ All ${totals.repositories} repositories are backed up.**`
}

function summaryMarkdown(
  results: RepositoryResult[],
  totals: RunTotals,
  notes: string[] = []
): string {
  const lines = [
    '## Bitbucket backup',
    '',
    verdictLine(results, totals),
    '',
    totalsLine(totals),
    '',
    ...notes.map(note => `- ${escapeCell(note)}`),
    ...(notes.length ? [''] : []),
    '| Repository | Status | Refs | LFS objects | Size | Time | Details |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |'
  ]
  const order: RepositoryStatus[] = [
    'failed',
    'incomplete',
    'deferred',
    'skipped',
    'no-longer-listed',
    'empty',
    'backed-up',
    'unchanged',
    'listed'
  ]
  const sorted = [...results].sort(
    (a, b) =>
      order.indexOf(a.status) - order.indexOf(b.status) ||
      `${a.workspace}/${a.slug}`.localeCompare(`${b.workspace}/${b.slug}`)
  )
  for (const result of sorted) {
    lines.push(
      `| ${escapeCell(`${result.workspace}/${result.slug}`)} | ${STATUS_LABELS[result.status]} | ` +
        `${result.refs ?? '-'} | ${result.lfsObjects ?? '-'} | ${formatBytes(result.bytes)} | ` +
        `${result.seconds === undefined ? '-' : `${result.seconds.toFixed(1)} s`} | ${escapeCell(result.detail)} |`
    )
  }
  return `${lines.join('\n')}\n`
}

/** Writes the JSON report, the step outputs and the job summary, and annotates failures. */
export async function publishReport(
  results: RepositoryResult[],
  totals: RunTotals,
  reportPath: string,
  extra: Record<string, unknown> = {},
  notes: string[] = []
): Promise<void> {
  await fs.mkdir(path.dirname(reportPath), { recursive: true })
  // Each failed or incomplete repository names its code in the JSON too; the caller's results stay as they are.
  const repositories = results.map(result => {
    const code = resultCode(result)
    return code ? { ...result, code } : result
  })
  const report = { generatedAt: new Date().toISOString(), totals, ...extra, repositories }
  await fs.writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`)

  core.setOutput(Outputs.Repositories, totals.repositories)
  core.setOutput(Outputs.BackedUp, totals.byStatus['backed-up'])
  core.setOutput(Outputs.Unchanged, totals.byStatus.unchanged)
  core.setOutput(Outputs.Empty, totals.byStatus.empty)
  core.setOutput(Outputs.Failed, totals.byStatus.failed)
  core.setOutput(Outputs.Incomplete, totals.byStatus.incomplete)
  core.setOutput(Outputs.Deferred, totals.byStatus.deferred)
  core.setOutput(Outputs.Report, reportPath)

  for (const result of results) {
    const name = `${result.workspace}/${result.slug}`
    if (result.status === 'failed')
      core.error(ensureCoded(resultCode(result)!, `${name}: ${result.detail}`))
    if (result.status === 'incomplete') {
      const oids = result.lfsMissing ?? []
      core.warning(
        coded(
          'LFS002',
          `${name} is incomplete: ${plural(oids.length, 'LFS object')} missing on Bitbucket (${oids.slice(0, 10).join(', ')}${oids.length > 10 ? ', ...' : ''}); everything else is backed up, and later runs fetch them when they appear`
        )
      )
    }
  }
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(summaryMarkdown(results, totals, notes)).write()
  }
}
