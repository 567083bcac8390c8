// `npm run bench`: figures, not pass/fail tests. Runs the bundled action as the runner runs it
// against the local Bitbucket and the results service, and writes docs/benchmarks.md.
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runAction } from '../__tests__/support/action-runner.js'
import { workingCopy } from '../__tests__/support/bitbucket/fixtures.js'
import { startLocalBitbucket } from '../__tests__/support/bitbucket/index.js'
import { startResultsService } from '../__tests__/support/results-service/index.js'

const MB = 1024 * 1024
const args = new Map(
  process.argv.slice(2).map(arg => {
    const [key, value] = arg.replace(/^--/, '').split('=')
    return [key, value ?? 'true']
  })
)
const repositoryMb = Number(args.get('size-mb') ?? 1024)
const output = path.resolve(args.get('out') ?? 'docs/benchmarks.md')
const target = args.get('target') ?? 'artifact'

interface Figure {
  scenario: string
  wallSeconds: number
  peakRssMb: number
  detail: string
}

async function largeRepositoryToArtifact(): Promise<Figure> {
  const bb = await startLocalBitbucket()
  const rs = await startResultsService()
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-'))
  try {
    bb.createWorkspace('bench')
    bb.addApiToken({ email: 'bench@example.com', username: 'bench', token: 'ATATT-bench' })
    bb.addRepository('bench', 'large')
    // Roughly 40% git (incompressible blobs over many commits) and 60% LFS, like a game or ML repo.
    const wc = await workingCopy(bb, 'bench', 'large')
    const gitMb = Math.round(repositoryMb * 0.4)
    const lfsMb = repositoryMb - gitMb
    for (let i = 0; i < gitMb / 8; i++) {
      wc.write(`data/blob-${i}.bin`, randomBytes(8 * MB))
      if (i % 8 === 7) await wc.commit(`data ${i}`)
    }
    await wc.commit('data')
    for (let i = 0; i < lfsMb / 64; i++) wc.writeLfs(`assets/asset-${i}.bin`, randomBytes(64 * MB))
    await wc.commit('assets')
    await wc.push()
    fs.rmSync(wc.dir, { recursive: true, force: true })
    console.log(`bench: upstream ready (${gitMb} MB git, ${lfsMb} MB LFS)`)

    const runnerDir = path.join(base, 'runner')
    fs.mkdirSync(runnerDir)
    const started = Date.now()
    const run = await runAction(
      {
        workspace: 'bench',
        'bitbucket-api-url': bb.apiUrl,
        'bitbucket-email': 'bench@example.com',
        'bitbucket-api-token': 'ATATT-bench',
        target,
        'backup-dir': 'backup',
        cache: 'false'
      },
      {
        runnerDir,
        timeoutMs: 30 * 60_000,
        env: {
          ...rs.env({
            runId: 1,
            runnerTemp: path.join(runnerDir, 'temp'),
            workspace: path.join(runnerDir, 'workspace')
          })
        }
      }
    )
    const wallSeconds = (Date.now() - started) / 1000
    if (run.exitCode !== 0) throw new Error(`the action failed:\n${run.stdout}\n${run.stderr}`)
    const report = JSON.parse(fs.readFileSync(run.outputs.report, 'utf8'))
    const uploaded = rs.artifacts.reduce((sum, artifact) => sum + artifact.size, 0)
    return {
      scenario: `one ${repositoryMb} MB repository (${gitMb} MB git, ${lfsMb} MB LFS), target ${target}`,
      wallSeconds,
      peakRssMb: Math.round(report.peakRssBytes / MB),
      detail: `${Math.round(uploaded / MB)} MB uploaded in ${rs.artifacts.length} artifacts`
    }
  } finally {
    await bb.close()
    await rs.close()
    fs.rmSync(base, { recursive: true, force: true })
  }
}

const figures: Figure[] = []
figures.push(await largeRepositoryToArtifact())
for (const figure of figures) console.log(figure)

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const lines = [
  '# Benchmarks',
  '',
  'Figures from `npm run bench` (not tests): the bundled action run as the GitHub runner runs it',
  '(`node24 dist/index.js`) against the local Bitbucket (real `git http-backend`, real git-lfs) and',
  'the local results service (Azurite). Peak memory is the action process itself (git and git-lfs',
  'run in child processes); the goal is under 200 MB whatever the repository size.',
  '',
  `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, ${os.platform()} ${os.release()}; measured ${new Date().toISOString().slice(0, 10)}.`,
  '',
  `Reproduce: \`npm run bench -- --size-mb=${repositoryMb}\``,
  '',
  '| scenario | wall time | peak memory of the action | detail |',
  '| --- | ---: | ---: | --- |',
  ...figures.map(
    f => `| ${f.scenario} | ${f.wallSeconds.toFixed(1)} s | ${f.peakRssMb} MB | ${f.detail} |`
  ),
  '',
  'What the memory figure taught us: about 110 MB is Node 24 with the bundle loaded; shipping',
  'source maps cost 85 MB more (the first stack trace parsed the 8 MB map), so `dist/` has none;',
  'each upload block in flight holds 8 MB, so uploads run one block at a time',
  '(`ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY` overrides it); files are hashed through one reused buffer.',
  "The peak is read from `/proc/self/status` (VmHWM): getrusage carries a parent's peak across exec.",
  ''
]
fs.mkdirSync(path.dirname(output), { recursive: true })
fs.writeFileSync(output, lines.join('\n'))
console.log(`bench: wrote ${output}`)
