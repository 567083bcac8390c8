// A child process's exit code and whole output, its stdin fed at once: for git runs whose output is
// small, without blocking the event loop (the local Bitbucket answers from the same process).
import type { ChildProcessWithoutNullStreams } from 'node:child_process'

export function collect(
  child: ChildProcessWithoutNullStreams,
  input: string | Buffer = ''
): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.on('error', reject)
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
    child.on('close', code =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) })
    )
  })
}
