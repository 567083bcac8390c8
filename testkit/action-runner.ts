// Runs the bundled action exactly as the GitHub runner does: `node24 dist/index.js` with INPUT_* and runner files.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const distEntry = path.join(projectRoot, 'dist', 'index.js')
/** src/index.ts run through tsx: the action as the next build will bundle it. */
export const sourceEntry = path.join(projectRoot, 'testkit', 'source-entry.mjs')
const restoreEntry = path.join(projectRoot, 'restore', 'index.js')

/**
 * The file a run starts: the committed bundle, unless E2E_ENTRY=src asks for the sources (to see
 * what a change of src/ does to the end-to-end tests before dist/ is rebuilt).
 */
export function entryToRun(entry: string = distEntry): {
  file: string
  env: Record<string, string>
} {
  if (process.env.E2E_ENTRY !== 'src') return { file: entry, env: {} }
  if (entry === distEntry) return { file: sourceEntry, env: {} }
  // restore/index.js is the bundle told to restore: the sources are told the same.
  if (entry === restoreEntry)
    return { file: sourceEntry, env: { BITBUCKET_BACKUP_ENTRY: 'restore-action' } }
  return { file: entry, env: {} }
}

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

/** A signal the test or the runner's cancellation sent, with when (ms since the epoch). */
export interface SentSignal {
  signal: NodeJS.Signals
  at: number
}

export interface FinishedAction extends ActionRun {
  /** When the first signal was sent, if one was. */
  signalledAt?: number
  exitedAt: number
  /** The signal that ended the process, or null when it exited by itself. */
  exitSignal: NodeJS.Signals | null
  signals: SentSignal[]
}

/** The GitHub runner's cancellation on Linux (actions/runner ProcessInvoker): SIGINT, SIGTERM, then SIGKILL. */
export const RUNNER_CANCEL = { sigintTimeoutMs: 7500, sigtermTimeoutMs: 2500 }

export interface StartedAction {
  child: ChildProcessWithoutNullStreams
  /** The first stdout line matching `pattern`; rejects on timeout or when the process ends first. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Sends `sig` to the action's process (not its children), if it still runs, and records it. */
  signal(sig: NodeJS.Signals): void
  /**
   * Cancels as the runner does: SIGINT; SIGTERM if it still runs 7.5 s later; SIGKILL 2.5 s after that.
   * Like the runner on Linux, only the action's own process is signalled, never its children.
   */
  cancelLikeTheRunner(timeouts?: Partial<typeof RUNNER_CANCEL>): Promise<FinishedAction>
  done: Promise<FinishedAction>
}

function runnerEnv(
  inputs: Record<string, string>,
  options: ActionRunOptions,
  files: {
    runnerDir: string
    runnerTemp: string
    workspaceDir: string
    outputFile: string
    summaryFile: string
  }
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: files.runnerTemp,
    RUNNER_TOOL_CACHE: path.join(files.runnerDir, 'toolcache'),
    GITHUB_WORKSPACE: files.workspaceDir,
    GITHUB_OUTPUT: files.outputFile,
    GITHUB_STEP_SUMMARY: files.summaryFile,
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
  return env
}

/** Starts the action as the runner does and lets a test watch its output and signal it while it runs. */
export function startAction(
  inputs: Record<string, string>,
  options: ActionRunOptions = {}
): StartedAction {
  const runnerDir = options.runnerDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-runner-'))
  const runnerTemp = path.join(runnerDir, 'temp')
  const workspaceDir = path.join(runnerDir, 'workspace')
  fs.mkdirSync(runnerTemp, { recursive: true })
  fs.mkdirSync(workspaceDir, { recursive: true })
  const outputFile = path.join(runnerDir, `output-${Date.now()}`)
  const summaryFile = path.join(runnerDir, `summary-${Date.now()}`)
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  const files = { runnerDir, runnerTemp, workspaceDir, outputFile, summaryFile }
  const started = entryToRun(options.entry)
  const env = { ...runnerEnv(inputs, options, files), ...started.env }

  const child = spawn(node24Binary(), [started.file], { cwd: workspaceDir, env })
  let stdout = ''
  let stderr = ''
  let closed = false
  const signals: SentSignal[] = []
  const watchers = new Set<() => void>()
  const notify = () => watchers.forEach(watch => watch())
  child.stdout.on('data', chunk => {
    stdout += chunk
    notify()
  })
  child.stderr.on('data', chunk => (stderr += chunk))
  const running = () => child.exitCode === null && child.signalCode === null
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000)
  let exitedAt = 0
  child.on('exit', () => (exitedAt = Date.now()))
  const done = new Promise<FinishedAction>(resolve =>
    child.on('close', (code, exitSignal) => {
      clearTimeout(timer)
      closed = true
      notify()
      resolve({
        exitCode: code ?? -1,
        exitSignal,
        stdout,
        stderr,
        outputs: parseOutputFile(fs.readFileSync(outputFile, 'utf8')),
        summary: fs.readFileSync(summaryFile, 'utf8'),
        runnerDir,
        runnerTemp,
        workspaceDir,
        signals,
        signalledAt: signals[0]?.at,
        exitedAt: exitedAt || Date.now()
      })
    })
  )

  const signal = (sig: NodeJS.Signals) => {
    if (!running()) return
    signals.push({ signal: sig, at: Date.now() })
    child.kill(sig)
  }
  const waitForStdout = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = stdout.split('\n').find(candidate => new RegExp(pattern).test(candidate))
        if (line === undefined && !closed) return
        watchers.delete(check)
        clearTimeout(expiry)
        if (line !== undefined) resolve(line)
        else
          reject(new Error(`the action ended before printing ${pattern}: ${tail(stdout, stderr)}`))
      }
      const expiry = setTimeout(() => {
        watchers.delete(check)
        reject(new Error(`no ${pattern} on stdout within ${timeoutMs} ms: ${tail(stdout, stderr)}`))
      }, timeoutMs)
      watchers.add(check)
      check()
    })
  const cancelLikeTheRunner = (timeouts: Partial<typeof RUNNER_CANCEL> = {}) => {
    const { sigintTimeoutMs, sigtermTimeoutMs } = { ...RUNNER_CANCEL, ...timeouts }
    if (!running()) return done
    // Each wait starts when its signal was sent, as the runner's SendSignal awaits its own timeout.
    signal('SIGINT')
    let timer = setTimeout(() => {
      signal('SIGTERM')
      timer = setTimeout(() => signal('SIGKILL'), sigtermTimeoutMs)
    }, sigintTimeoutMs)
    child.once('exit', () => clearTimeout(timer))
    return done
  }
  return { child, waitForStdout, signal, cancelLikeTheRunner, done }
}

/** The end of what a process printed, for a failure message. */
function tail(stdout: string, stderr: string): string {
  return `stdout ends ${JSON.stringify(stdout.slice(-400))}, stderr ends ${JSON.stringify(stderr.slice(-400))}`
}

/** Runs the action to its end: startAction without interaction. */
export async function runAction(
  inputs: Record<string, string>,
  options: ActionRunOptions = {}
): Promise<FinishedAction> {
  return startAction(inputs, options).done
}

/** The `::error::` lines a run printed, without the command prefix. */
export function errorLines(run: ActionRun): string[] {
  return run.stdout
    .split('\n')
    .filter(line => line.startsWith('::error'))
    .map(line => line.replace(/^::error[^:]*::/, ''))
}
