// The one door to git: every call runs here, with credentials only in this process's environment.
import { spawn } from 'node:child_process'

export interface GitAuth {
  /** Origin the header is bound to, e.g. https://bitbucket.org: git sends it nowhere else. */
  origin: string
  authorization: () => Promise<string>
}

export interface GitResult {
  exitCode: number
  stdout: string
  stderr: string
}

export class GitError extends Error {
  override name = 'GitError'
}

/** Environment-scoped git configuration: an extraheader per origin, and no credential helper. */
export async function authEnvironment(auth: GitAuth[]): Promise<Record<string, string>> {
  const entries: [string, string][] = [['credential.helper', '']]
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

export function createGit(auth: GitAuth[] = []) {
  async function exec(args: string[], options: { cwd?: string } = {}): Promise<GitResult> {
    const env = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GCM_INTERACTIVE: 'Never',
      GIT_LFS_SKIP_SMUDGE: '1',
      ...(await authEnvironment(auth))
    }
    return new Promise((resolve, reject) => {
      const child = spawn('git', args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      child.stdout.on('data', chunk => stdout.push(chunk))
      child.stderr.on('data', chunk => stderr.push(chunk))
      child.on('error', reject)
      child.on('close', code =>
        resolve({
          exitCode: code ?? -1,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8')
        })
      )
    })
  }

  /** Runs git and returns stdout; a failure throws with git's last stderr line (never the env). */
  async function run(args: string[], options: { cwd?: string } = {}): Promise<string> {
    const result = await exec(args, options)
    if (result.exitCode !== 0) {
      const reason = result.stderr.trim().split('\n').pop() ?? `exit code ${result.exitCode}`
      throw new GitError(`git ${args[0]} failed: ${reason}`)
    }
    return result.stdout
  }

  return { exec, run }
}

export type Git = ReturnType<typeof createGit>
