// `npm run lint` runs actionlint on every workflow (npm run lint:workflows, scripts/lint-workflows.mjs):
// it fails on a deliberately broken workflow (e2e/fixtures/workflow-lint) with each mistake on its
// line, passes on ours, and does so on the Node of the machine and on the Node 24 the action runs on.
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { node24Binary, projectRoot } from '../testkit/action-runner.js'

const script = path.join(projectRoot, 'scripts', 'lint-workflows.mjs')
const nodes = [
  ['this machine', process.execPath],
  ['Node 24', node24Binary()]
]

function lint(node: string, ...targets: string[]) {
  const run = spawnSync(node, [script, ...targets], { cwd: projectRoot, encoding: 'utf8' })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('the workflow lint', () => {
  it.each(nodes)('reports every mistake of a broken workflow, on %s', (_name, node) => {
    const { status, stderr } = lint(node, path.join('e2e', 'fixtures', 'workflow-lint'))
    expect(status).toBe(1)
    const file = 'e2e/fixtures/workflow-lint/broken.yml'
    expect(stderr).toContain(`${file}:7:5: unexpected key "branchs" for "push" section`)
    expect(stderr).toContain(`${file}:10:13: "raed" is invalid for permission of scope "contents"`)
    expect(stderr).toContain(`${file}:13:3: job "test" needs job "build" which does not exist`)
    expect(stderr).toContain(`${file}:19:11: input "fetch-depht" is not defined in action`)
    expect(stderr).toContain(`${file}:20:24: property "node" is not defined`)
    expect(stderr).toContain(`${file}:21:24: property "missing" is not defined`)
    expect(stderr).toContain('lint:workflows: 6 problem(s) in 1 workflow file(s)')
  })

  it.each(nodes)('passes every workflow of this repository, on %s', (_name, node) => {
    const workflows = fs.readdirSync(path.join(projectRoot, '.github', 'workflows'))
    const { status, stdout, stderr } = lint(node)
    expect(stderr).toBe('')
    expect(stdout).toContain(`lint:workflows: ${workflows.length} workflow file(s) pass actionlint`)
    expect(status).toBe(0)
  })

  it('is part of npm run lint', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8'))
    expect(manifest.scripts['lint:workflows']).toBe('node scripts/lint-workflows.mjs')
    expect(manifest.scripts.lint).toMatch(/&& npm run lint:workflows$/)
  })

  it('fails when it finds nothing to lint', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-lint-'))
    try {
      const { status, stderr } = lint(process.execPath, empty)
      expect(status).toBe(1)
      expect(stderr).toMatch(/^lint:workflows: no workflow file in /)
    } finally {
      fs.rmSync(empty, { recursive: true })
    }
  })
})
