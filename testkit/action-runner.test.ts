// The action runner stand-in must start, watch and cancel a step as the GitHub runner does; a tiny
// script that traps signals stands in for the action, so these tests need no build.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runAction, startAction } from './action-runner.js'

let dir: string
let entry: string

// TRAP: "exit" ends on SIGINT after cleaning up, "term" ignores SIGINT and ends on SIGTERM, "ignore"
// ignores both; the script also starts a `sleep` child and names its pid, to see who gets signalled.
const script = `
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
const mode = process.env.TRAP
const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' })
const keepAlive = setInterval(() => undefined, 1000)
const finish = (code, ms) => setTimeout(() => {
  fs.appendFileSync(process.env.GITHUB_OUTPUT, 'cleaned=yes\\n')
  process.exit(code)
}, ms)
process.on('SIGINT', () => {
  console.log('got SIGINT')
  if (mode === 'exit') finish(130, 200)
})
process.on('SIGTERM', () => {
  console.log('got SIGTERM')
  if (mode === 'term') finish(143, 0)
})
console.log('child ' + sleeper.pid)
console.log('ready for ' + process.env.INPUT_WORKSPACE)
if (mode === 'done') {
  clearInterval(keepAlive)
  sleeper.kill()
  finish(0, 0)
}
`

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-runner-signals-'))
  entry = path.join(dir, 'trap.mjs')
  fs.writeFileSync(entry, script)
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const start = (trap: string) => startAction({ workspace: 'acme' }, { entry, env: { TRAP: trap } })

/** Ends the script's `sleep` child, which the runner's cancellation leaves running. */
function reapChild(stdout: string): number {
  const pid = Number(/^child (\d+)$/m.exec(stdout)?.[1])
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
  return pid
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('the action runner stand-in', () => {
  it('runAction still runs to the end and reads inputs, outputs and exit code', async () => {
    const run = await runAction({ workspace: 'acme' }, { entry, env: { TRAP: 'done' } })
    expect(run.exitCode).toBe(0)
    expect(run.exitSignal).toBeNull()
    expect(run.stdout).toMatch(/^ready for acme$/m)
    expect(run.outputs).toEqual({ cleaned: 'yes' })
    expect(run.signals).toEqual([])
    expect(run.signalledAt).toBeUndefined()
  })

  it('waits for a stdout line, and fails clearly when the process ends without it', async () => {
    const action = start('done')
    expect(await action.waitForStdout(/^ready for/)).toBe('ready for acme')
    await expect(action.waitForStdout(/never printed/)).rejects.toThrow(
      /the action ended before printing \/never printed\/: stdout ends/
    )
    const waiting = start('exit')
    await expect(waiting.waitForStdout(/never printed/, 300)).rejects.toThrow(
      /no \/never printed\/ on stdout within 300 ms/
    )
    waiting.signal('SIGKILL')
    reapChild((await waiting.done).stdout)
  })

  it('cancels with SIGINT alone when the action ends within 7.5 s', async () => {
    const action = start('exit')
    await action.waitForStdout(/^ready/)
    const run = await action.cancelLikeTheRunner()
    reapChild(run.stdout)
    expect(run.signals.map(s => s.signal)).toEqual(['SIGINT'])
    expect(run.exitCode).toBe(130)
    expect(run.outputs).toEqual({ cleaned: 'yes' })
    expect(run.stdout).toMatch(/^got SIGINT$/m)
    expect(run.exitedAt - run.signalledAt!).toBeLessThan(2000)
  })

  it('sends SIGTERM when SIGINT is ignored, with shorter waits when a test asks', async () => {
    const action = start('term')
    await action.waitForStdout(/^ready/)
    const run = await action.cancelLikeTheRunner({ sigintTimeoutMs: 300 })
    reapChild(run.stdout)
    expect(run.signals.map(s => s.signal)).toEqual(['SIGINT', 'SIGTERM'])
    expect(run.signals[1].at - run.signals[0].at).toBeGreaterThanOrEqual(299)
    expect(run.exitCode).toBe(143)
    expect(run.stdout).toMatch(/got SIGINT\ngot SIGTERM/)
  })

  it('kills 2.5 s after SIGTERM what ignores both, at the runner timings, and leaves its children running', async () => {
    const action = start('ignore')
    await action.waitForStdout(/^ready/)
    const run = await action.cancelLikeTheRunner()
    const [sigint, sigterm, sigkill] = run.signals
    expect(run.signals.map(s => s.signal)).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL'])
    // Timers run late under load, never early (a millisecond of clock rounding aside).
    expect(sigterm.at - sigint.at).toBeGreaterThanOrEqual(7499)
    expect(sigterm.at - sigint.at).toBeLessThan(9000)
    expect(sigkill.at - sigterm.at).toBeGreaterThanOrEqual(2499)
    expect(sigkill.at - sigterm.at).toBeLessThan(4000)
    expect(run.exitSignal).toBe('SIGKILL')
    expect(run.exitCode).toBe(-1)
    expect(run.exitedAt).toBeGreaterThanOrEqual(sigkill.at)
    expect(run.stdout).toMatch(/got SIGINT\ngot SIGTERM\n$/)
    // The runner signals the process id alone (kill(pid)), so a child outlives the step.
    const pid = Number(/^child (\d+)$/m.exec(run.stdout)?.[1])
    expect(isRunning(pid)).toBe(true)
    reapChild(run.stdout)
  }, 20_000)
})
