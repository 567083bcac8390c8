// docs/benchmarks.md: the header (machine, command), the sections of the scenarios that ran, and the
// sections of scenarios with a section of their own that did not run this time, kept as they were.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { node24Binary } from '../../testkit/action-runner.js'
import type { BenchArgs } from './args.js'
import { COMPARISON_HEADING, comparisonSection, type Comparison } from './comparison.js'
import { interpretation, INTERPRETATION_HEADING } from './interpretation.js'
import { LARGE_ARTIFACT_HEADING } from './large-artifact.js'
import { MEMORY_OBJECTS_HEADING } from './memory-objects.js'
import { METADATA_COST_HEADING } from './metadata-cost.js'
import { noChangeSection } from './no-change-section.js'
import type { NoChange } from './no-change.js'
import { RESTORE_HEADING } from './restore.js'
import { SMALL_DISK_HEADING } from './small-disk.js'

/** Scenarios with a section of their own (which says its machine and command), in the document's order. */
const OWN_SECTION_HEADINGS = [
  LARGE_ARTIFACT_HEADING,
  MEMORY_OBJECTS_HEADING,
  SMALL_DISK_HEADING,
  RESTORE_HEADING,
  METADATA_COST_HEADING
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

/** The document's sections in order: which heading each is, and its lines when this run made it. */
interface Slot {
  matches(heading: string): boolean
  lines?: string[]
}

/** The slots of the comparison, no-change and interpretation sections, then the own sections. */
function slotsOf(args: BenchArgs, figures: BenchFigures): Slot[] {
  const many = figures.noChange.find(n => n.profile.key === 'many')
  const tiny = figures.noChange.find(n => n.profile.key === 'tiny')
  // The reading needs the comparison and both workspaces of this run, or it is kept as it was.
  const reading =
    figures.comparison && many && tiny
      ? interpretation(args, figures.comparison, many, tiny)
      : undefined
  const withCommand = (lines: string[] | undefined) =>
    lines && [...lines, `Measured by \`${reproduceCommand(args)}\`.`, '']
  return [
    {
      matches: heading => heading.startsWith(COMPARISON_HEADING),
      lines: withCommand(figures.comparison && comparisonSection(args, figures.comparison))
    },
    {
      matches: heading => heading.includes("repositories of the mixed workspace's sizes: full"),
      lines: withCommand(many && noChangeSection(args, many))
    },
    {
      matches: heading => heading.includes('tiny repositories') && heading.includes(': full'),
      lines: withCommand(tiny && noChangeSection(args, tiny))
    },
    { matches: heading => heading === INTERPRETATION_HEADING, lines: reading },
    ...OWN_SECTION_HEADINGS.map(own => ({
      matches: (heading: string) => heading === own,
      lines: figures.own.get(own)
    }))
  ]
}

/** The existing document's sections, each from its `## ` heading to the next. */
function sectionsOf(output: string): { heading: string; lines: string[] }[] {
  const text = fs.existsSync(output) ? fs.readFileSync(output, 'utf8') : ''
  return text
    .split(/\n(?=## )/)
    .slice(1)
    .map(part => {
      const lines = part.trimEnd().split('\n')
      return { heading: lines[0], lines: [...lines, ''] }
    })
}

/** Writes the document to `args.output`: this run's sections, the others kept as they were. */
export function writeBenchmarks(args: BenchArgs, figures: BenchFigures): void {
  const { output } = args
  const previous = sectionsOf(output)
  const sections: string[] = []
  for (const slot of slotsOf(args, figures)) {
    if (slot.lines) sections.push(...slot.lines)
    else
      for (const kept of previous.filter(old => slot.matches(old.heading)))
        sections.push(...kept.lines)
  }
  fs.mkdirSync(path.dirname(output), { recursive: true })
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
    'and git-lfs run in child processes). Requests are counted by the local Bitbucket. Each section says the',
    'command that measured it; the scenarios that did not run are kept as they were.',
    '',
    machineLine(),
    '',
    ...sections
  ]
  fs.writeFileSync(output, lines.join('\n'))
}
