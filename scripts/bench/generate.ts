// Fills the local Bitbucket's repositories in a process of its own (scripts/bench/measure.ts starts it): the
// generator's buffers never enlarge the process that serves the benchmark, whose every
// `git http-backend` is forked from it (a fork costs more the larger the process).
// stdin: {"jobs": FillJob[], "seed": string}
import { text } from 'node:stream/consumers'
import { fillRepositories, type FillJob } from '../../testkit/bitbucket/generate-workspace.js'

const { jobs, seed } = JSON.parse(await text(process.stdin)) as { jobs: FillJob[]; seed: string }
await fillRepositories(jobs, { seed })
