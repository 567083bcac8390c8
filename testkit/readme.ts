// The documentation's shell blocks (the restore guide in docs/restore.md), run as written: found by
// section heading, indentation under a list item removed, run in strict bash without blocking this
// process (the stand-ins they talk to run in it).
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { projectRoot } from './action-runner.js'

/** The ```sh blocks of the section under `### <heading>` of a document (a repository path), in order. */
export function docShellBlocks(doc: string, heading: string): string[] {
  const text = fs.readFileSync(path.join(projectRoot, doc), 'utf8')
  const section = text.split(`\n### ${heading}\n`)[1]?.split(/\n##? /)[0]
  if (section === undefined) throw new Error(`${doc} has no section "### ${heading}"`)
  return [...section.matchAll(/^( *)```sh\n([\s\S]*?)^\1```/gm)].map(([, indent, body]) =>
    body
      .split('\n')
      .map(line => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n')
  )
}

export async function runShellBlock(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 90_000
): Promise<void> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { GIT_TERMINAL_PROMPT: '0', ...env },
    detached: true
  })
  let stderr = ''
  child.stderr.on('data', chunk => (stderr += chunk))
  // A block that waits on something (a prompt, a lock) fails with what it said, not a test timeout.
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`Documented block failed (${code}):\n${script}\n${stderr}`)
}
