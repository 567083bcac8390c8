// `npm run bench`: figures, not pass/fail tests. Runs the bundled action as the runner runs it
// against the local Bitbucket (and, for artifacts, the results service), beside raw git's floor,
// and writes docs/benchmarks.md. The flags and scenarios: scripts/bench/args.ts.
import * as path from 'node:path'
import { parseBenchArgs, type BenchArgs } from './args.js'
import { comparison } from './comparison.js'
import { LARGE_ARTIFACT_HEADING, largeArtifact } from './large-artifact.js'
import { MEMORY_OBJECTS_HEADING, memoryObjects } from './memory-objects.js'
import { noChange } from './no-change.js'
import { METADATA_COST_HEADING, metadataCost } from './metadata-cost.js'
import { manyProfiles } from './profiles.js'
import { machineLine, reproduceCommand, writeBenchmarks, type BenchFigures } from './render.js'
import { RESTORE_HEADING, restoreScenario } from './restore.js'
import { SMALL_DISK_HEADING, smallDisk } from './small-disk.js'
import { generateApart, startBench } from './measure.js'

/** Runs the chosen scenarios, in the document's order. */
async function runScenarios(args: BenchArgs): Promise<BenchFigures> {
  const { scenarios } = args
  const figures: BenchFigures = { noChange: [], own: new Map() }
  if (scenarios.has('comparison')) figures.comparison = await comparison(args)
  for (const profile of manyProfiles(args)) {
    if (!scenarios.has(profile.key === 'many' ? 'no-change' : 'no-change-tiny')) continue
    figures.noChange.push(await noChange(args, profile))
  }
  if (scenarios.has('large-artifact')) {
    figures.own.set(LARGE_ARTIFACT_HEADING, await largeArtifact(args))
  }
  if (scenarios.has('memory-objects')) {
    const { before } = args
    figures.own.set(
      MEMORY_OBJECTS_HEADING,
      await memoryObjects({
        blobCounts: args.objects,
        pointers: 3,
        bundles: [
          ...(before ? [{ label: 'before', entry: path.resolve(before) }] : []),
          { label: before ? 'after' : 'the action', entry: args.entry }
        ],
        runs: args.runs,
        command: reproduceCommand(args),
        machine: machineLine()
      })
    )
  }
  if (scenarios.has('small-disk')) {
    const many = manyProfiles(args).find(profile => profile.key === 'many')!
    const section = await smallDisk({
      specs: many.specs,
      description: many.description,
      latencyMs: args.latencyMs,
      entry: args.entry,
      startBitbucket: () => startBench(args, true),
      generate: generateApart,
      command: reproduceCommand(args),
      machine: machineLine()
    })
    if (section) figures.own.set(SMALL_DISK_HEADING, section)
  }
  if (scenarios.has('restore')) {
    figures.own.set(
      RESTORE_HEADING,
      await restoreScenario(args, { command: reproduceCommand(args), machine: machineLine() })
    )
  }
  if (scenarios.has('metadata-cost')) {
    figures.own.set(
      METADATA_COST_HEADING,
      await metadataCost(args, { command: reproduceCommand(args), machine: machineLine() })
    )
  }
  return figures
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2))
  writeBenchmarks(args, await runScenarios(args))
  console.log(`bench: wrote ${args.output}`)
}

await main()
