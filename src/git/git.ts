// The one door to git: every call runs here, with credentials only in this process's environment.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'

export interface GitAuth {
  /** Origin the header is bound to, e.g. https://bitbucket.org: git sends it nowhere else. */
  origin: string
  authorization: () => Promise<string>
}

export interface GitResult {
  exitCode: number
  stdout: string
  /** stdout as bytes, for output that is not text (cat-file --batch). */
  stdoutBytes: Buffer
  stderr: string
}

export interface GitOptions {
  cwd?: string
  /** Written to git's stdin (for --stdin and --batch commands). */
  input?: string | Buffer
}

/** A running git whose stdin and stdout the caller streams through: nothing is buffered here. */
export interface GitStream {
  stdin: Writable
  stdout: Readable
  /** Settles when git has exited and its output ended: rejects with a GitError unless it exits 0. */
  exited: Promise<void>
  /** Ends git early, when the caller gives up on its output (`exited` then rejects). */
  kill: () => void
}

export class GitError extends Error {
  override name = 'GitError'
  constructor(
    message: string,
    /** Everything git wrote to stderr, for classifying the failure (transient or not). */
    readonly stderr = ''
  ) {
    super(message)
  }
}

/**
 * Environment-scoped git configuration: an extraheader per origin, no credential helper, and no
 * redirects while a header is configured: git matches `http.<origin>.extraheader` once, against the
 * URL it was given, and after following a redirect (its default, `initial`) it sends that header to
 * wherever the redirect pointed.
 */
async function authEnvironment(
  auth: GitAuth[],
  config: readonly (readonly [string, string])[] = []
): Promise<Record<string, string>> {
  const entries: [string, string][] = [
    ['credential.helper', ''],
    ...(auth.length > 0 ? [['http.followRedirects', 'false'] as [string, string]] : []),
    ...config.map(([k, v]): [string, string] => [k, v])
  ]
  for (const { origin, authorization } of auth) {
    entries.push([
      `http.${new URL(origin).origin}/.extraheader`,
      `Authorization: ${await authorization()}`
    ])
  }
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) }
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key
    env[`GIT_CONFIG_VALUE_${index}`] = value
  })
  return env
}

/** The line that says why: git's `fatal:`/`error:` line when there is one, else the last line. */
function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
  return [...lines].reverse().find(line => /^(fatal|error):/i.test(line)) ?? lines.pop()
}

/** A failed git as an error that says why in git's words (never the environment). */
function failure(args: string[], exitCode: number, stderr: string): GitError {
  const reason = lastErrorLine(stderr) ?? `exit code ${exitCode}`
  return new GitError(`git ${commandOf(args)} failed: ${reason}`, stderr)
}

/** The git command an argument list runs (`ls-remote` in `-c protocol.version=0 ls-remote ...`). */
export function commandOf(args: string[]): string {
  let index = 0
  while (args[index] === '-c') index += 2
  return args[index] ?? 'git'
}

/** Git with one set of credentials: each call a child process, the credentials in its environment. */
export interface Git {
  /** Runs git to its end and returns its exit code and output, whatever the code. */
  exec(args: string[], options?: GitOptions): Promise<GitResult>
  /** Runs git and returns stdout; a failure throws a GitError with git's own reason. */
  run(args: string[], options?: GitOptions): Promise<string>
  /** Runs git and hands each stdout line to `onLine` as it comes: memory stays flat for any output. */
  lines(args: string[], onLine: (line: string) => void, options?: GitOptions): Promise<void>
  /** Starts git with stdin and stdout as pipes the caller streams through (`cat-file --batch`). */
  open(args: string[], options?: Pick<GitOptions, 'cwd'>): Promise<GitStream>
}

/**
 * @param auth extraheaders, each bound to one origin
 * @param config further settings that must hold for every call (e.g. LFS options for one remote)
 * @param signal ends every git still running when it aborts (a cancelled run)
 */
export function createGit(
  auth: GitAuth[] = [],
  config: readonly (readonly [string, string])[] = [],
  signal?: AbortSignal
): Git {
  const environment = async () => ({
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GCM_INTERACTIVE: 'Never',
    GIT_LFS_SKIP_SMUDGE: '1',
    ...(await authEnvironment(auth, config))
  })

  /**
   * Starts git with stdin fed from `options.input`, left open for the caller (`stdin: 'stream'`) or
   * closed; listeners go on before any await.
   */
  function start(
    args: string[],
    options: GitOptions & { stdin?: 'stream' },
    env: NodeJS.ProcessEnv
  ) {
    const piped = options.input !== undefined || options.stdin === 'stream'
    const child = spawn('git', args, {
      cwd: options.cwd,
      env,
      stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(signal ? { signal } : {})
    })
    // git may exit before reading all of it (a failure): that is reported by its exit code.
    child.stdin?.on('error', () => undefined)
    if (options.input !== undefined) child.stdin?.end(options.input)
    return child
  }

  async function exec(args: string[], options: GitOptions = {}): Promise<GitResult> {
    const child = start(args, options, await environment())
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      child.stdout!.on('data', chunk => stdout.push(chunk))
      child.stderr!.on('data', chunk => stderr.push(chunk))
      child.on('error', reject)
      child.on('close', code => {
        const bytes = Buffer.concat(stdout)
        resolve({
          exitCode: code ?? -1,
          stdout: bytes.toString('utf8'),
          stdoutBytes: bytes,
          stderr: Buffer.concat(stderr).toString('utf8')
        })
      })
    })
  }

  /** Runs git and returns stdout; a failure throws with git's last stderr line (never the env). */
  async function run(args: string[], options: GitOptions = {}): Promise<string> {
    const result = await exec(args, options)
    if (result.exitCode !== 0) throw failure(args, result.exitCode, result.stderr)
    return result.stdout
  }

  async function lines(
    args: string[],
    onLine: (line: string) => void,
    options: GitOptions = {}
  ): Promise<void> {
    const child = start(args, options, await environment())
    const stderr: Buffer[] = []
    child.stderr!.on('data', chunk => stderr.push(chunk))
    const closed = new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', code => resolve(code ?? -1))
    })
    for await (const line of createInterface({ input: child.stdout!, crlfDelay: Infinity })) {
      onLine(line)
    }
    const exitCode = await closed
    if (exitCode !== 0) throw failure(args, exitCode, Buffer.concat(stderr).toString('utf8'))
  }

  /**
   * Starts git with stdin and stdout as pipes, for a caller that feeds and reads it as it goes
   * (`cat-file --batch`), so neither side ever holds more than a pipe's worth.
   */
  async function open(args: string[], options: Pick<GitOptions, 'cwd'> = {}): Promise<GitStream> {
    const child = start(args, { cwd: options.cwd, stdin: 'stream' }, await environment())
    const stderr: Buffer[] = []
    child.stderr!.on('data', chunk => stderr.push(chunk))
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', code =>
        code === 0 ? resolve() : reject(failure(args, code ?? -1, Buffer.concat(stderr).toString()))
      )
    })
    // A caller that fails on another process first may never await this one.
    exited.catch(() => undefined)
    return {
      stdin: child.stdin!,
      stdout: child.stdout!,
      exited,
      kill: () => void child.kill()
    }
  }

  return { exec, run, lines, open }
}
