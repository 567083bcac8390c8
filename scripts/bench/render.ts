// docs/benchmarks.md: the header (machine, command), the sections of the scenarios that ran, and the
// sections of scenarios with a section of their own that did not run this time, kept as they were.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { node24Binary } from '../../testkit/action-runner.js'
import type { BenchArgs } from './args.js'
import { comparisonSection, type Comparison } from './comparison.js'
import { interpretation } from './interpretation.js'
import { LARGE_ARTIFACT_HEADING } from './large-artifact.js'
import { MEMORY_OBJECTS_HEADING } from './memory-objects.js'
import { noChangeSection } from './no-change-section.js'
import type { NoChange } from './no-change.js'
import { RESTORE_HEADING } from './restore.js'
import { SMALL_DISK_HEADING } from './small-disk.js'

/** Scenarios with a section of their own (which says its machine and command), in the document's order. */
const OWN_SECTION_HEADINGS = [
  LARGE_ARTIFACT_HEADING,
  MEMORY_OBJECTS_HEADING,
  SMALL_DISK_HEADING,
  RESTORE_HEADING
]

export interface BenchFigures {
  comparison?: Comparison
  /** The no-change scenarios that ran, the mixed workspace's first. */
  noChange: NoChange[]
  /** Sections of their own: heading → lines. */
  own: Map<string, string[]>
}

function version(command: string, commandArgs: string[]): string {
  try {
    return execFileSync(command, commandArgs).toString().trim().split('\n')[0]
  } catch {
    return 'unknown'
  }
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
  let distribution = ''
  try {
    const release = fs.readFileSync('/etc/os-release', 'utf8')
    distribution = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] ?? ''
  } catch {
    // not Linux
  }
  const lfs = version('git', ['lfs', 'version']).replace(/ \(.*$/, '')
  return (
    `Machine: ${os.cpus().length} CPUs (${cpu}), ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, ` +
    `${distribution ? `${distribution}, ` : ''}${os.platform()} ${os.release()}; ` +
    `the action on Node ${version(node24Binary(), ['--version']).replace(/^v/, '')}, the bench on Node ${process.versions.node}; ` +
    `${version('git', ['--version'])}, ${lfs}; measured ${new Date().toISOString().slice(0, 10)}.`
  )
}

export function reproduceCommand(args: BenchArgs): string {
  const flags = args.flags.filter(arg => !arg.startsWith('--out='))
  return `npm run bench${flags.length ? ` -- ${flags.join(' ')}` : ''}`
}

/** A section of the existing output file, kept when its scenario did not run this time. */
function keptSection(output: string, heading: string): string[] {
  const text = fs.existsSync(output) ? fs.readFileSync(output, 'utf8') : ''
  const start = text.indexOf(`\n${heading}\n`)
  if (start < 0) return []
  const rest = text.slice(start + 1)
  const next = rest.indexOf('\n## ')
  return [...(next < 0 ? rest : rest.slice(0, next)).trimEnd().split('\n'), '']
}

/** The text with each heading's section replaced by new lines (or added at the end). */
function withSections(text: string, replacements: Map<string, string[]>): string {
  let result = text
  for (const [heading, lines] of replacements) {
    const start = result.indexOf(`\n${heading}\n`)
    if (start < 0) {
      result = `${result.trimEnd()}\n\n${lines.join('\n')}`
      continue
    }
    const next = result.indexOf('\n## ', start + 1)
    const after = next < 0 ? '' : result.slice(next)
    result = `${result.slice(0, start + 1)}${lines.join('\n')}${after}`
  }
  return result
}

/** The comparison, no-change and interpretation sections: those the document is rewritten for. */
function mainSections(args: BenchArgs, figures: BenchFigures): string[] {
  const sections: string[] = []
  if (figures.comparison) sections.push(...comparisonSection(args, figures.comparison))
  for (const n of figures.noChange) sections.push(...noChangeSection(args, n))
  if (figures.comparison || figures.noChange.length > 0) {
    sections.push(
      ...interpretation(
        args,
        figures.comparison,
        figures.noChange.find(n => n.profile.key === 'many'),
        figures.noChange.find(n => n.profile.key === 'tiny')
      )
    )
  }
  return sections
}

/** Writes the document to `args.output`. */
export function writeBenchmarks(args: BenchArgs, figures: BenchFigures): void {
  const { output } = args
  const sections = mainSections(args, figures)
  fs.mkdirSync(path.dirname(output), { recursive: true })
  if (sections.length === 0 && fs.existsSync(output)) {
    // Only scenarios with sections of their own ran: the rest of the file stays as it was.
    fs.writeFileSync(output, withSections(fs.readFileSync(output, 'utf8'), figures.own))
    return
  }
  for (const heading of OWN_SECTION_HEADINGS) {
    sections.push(...(figures.own.get(heading) ?? keptSection(output, heading)))
  }
  const lines = [
    '# Benchmarks',
    '',
    '[← README](../README.md#documentation)',
    '',
    'Figures from `npm run bench` (not tests): the bundled action run as the GitHub runner runs it',
    '(`node24 dist/index.js`, through `testkit/action-runner.ts`) against the local Bitbucket',
    "(real `git http-backend`, real git-lfs, LFS objects served from a separate storage origin), beside raw git's",
    'floor. Everything runs on one machine: the local Bitbucket, git on both sides and the action share its',
    'CPUs, so a process the action spares is time it gains. Peak memory is the action process itself (git',
    'and git-lfs run in child processes). Requests are counted by the local Bitbucket.',
    '',
    machineLine(),
    '',
    `Reproduce: \`${reproduceCommand(args)}\``,
    '',
    ...sections
  ]
  fs.writeFileSync(output, lines.join('\n'))
}
