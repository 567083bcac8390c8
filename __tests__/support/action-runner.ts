// Runs the bundled action exactly as the GitHub runner does: `node24 dist/index.js` with INPUT_* and runner files.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const distEntry = path.join(projectRoot, 'dist', 'index.js')

/** The Node 24 binary from the `node` npm package: the runtime action.yml declares. */
export function node24Binary(): string {
  const candidate = path.join(projectRoot, 'node_modules', 'node', 'bin', 'node')
  if (!fs.existsSync(candidate)) {
    throw new Error('Node 24 is missing: run `npm ci` (the devDependency "node@24" provides it).')
  }
  return candidate
}

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Directory that played RUNNER_TEMP, GITHUB_WORKSPACE and the runner's files for this run. */
  runnerDir: string
  runnerTemp: string
  workspaceDir: string
}

export interface ActionRunOptions {
  /** Reuse a runner directory (self-hosted runner: files survive between runs). */
  runnerDir?: string
  /** Extra environment, e.g. the results-service stand-in's variables. */
  env?: Record<string, string>
  timeoutMs?: number
  /** Another entry of this repository, e.g. the restore action's restore/index.js. */
  entry?: string
}

/** Parses the runner's GITHUB_OUTPUT file (`name<<delimiter` blocks and `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i])
      outputs[heredoc[1]] = value.join('\n')
      continue
    }
    const simple = /^([^=]+)=(.*)$/.exec(lines[i])
    if (simple) outputs[simple[1]] = simple[2]
  }
  return outputs
}

export async function runAction(
  inputs: Record<string, string>,
  options: ActionRunOptions = {}
): Promise<ActionRun> {
  const runnerDir = options.runnerDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-runner-'))
  const runnerTemp = path.join(runnerDir, 'temp')
  const workspaceDir = path.join(runnerDir, 'workspace')
  fs.mkdirSync(runnerTemp, { recursive: true })
  fs.mkdirSync(workspaceDir, { recursive: true })
  const outputFile = path.join(runnerDir, `output-${Date.now()}`)
  const summaryFile = path.join(runnerDir, `summary-${Date.now()}`)
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: path.join(runnerDir, 'toolcache'),
    GITHUB_WORKSPACE: workspaceDir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/backups',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'backup',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    ...options.env
  }
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }

  const child = spawn(node24Binary(), [options.entry ?? distEntry], { cwd: workspaceDir, env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000)
  const exitCode = await new Promise<number>(resolve =>
    child.on('close', code => resolve(code ?? -1))
  )
  clearTimeout(timer)

  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputFile(fs.readFileSync(outputFile, 'utf8')),
    summary: fs.readFileSync(summaryFile, 'utf8'),
    runnerDir,
    runnerTemp,
    workspaceDir
  }
}

/** The `::error::` lines a run printed, without the command prefix. */
export function errorLines(run: ActionRun): string[] {
  return run.stdout
    .split('\n')
    .filter(line => line.startsWith('::error'))
    .map(line => line.replace(/^::error[^:]*::/, ''))
}
