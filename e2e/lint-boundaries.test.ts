// The boundaries of src/ hold: `npm run lint` refuses a folder cycle and an upward import, shown on a
// deliberately broken house (e2e/fixtures/boundaries), and passes on ours.
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { projectRoot } from '../testkit/action-runner.js'

const depcruise = path.join(projectRoot, 'node_modules', '.bin', 'depcruise')
const config = path.join(projectRoot, '.dependency-cruiser.cjs')

function cruise(cwd: string) {
  const run = spawnSync(depcruise, ['src', '--config', config, '--output-type', 'err'], {
    cwd,
    encoding: 'utf8'
  })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

describe('the boundaries npm run lint keeps', () => {
  it('refuses a folder cycle, an import of the entry point or of a parent folder, and @actions/core in a service', () => {
    const { status, output } = cruise(path.join(projectRoot, 'e2e', 'fixtures', 'boundaries'))
    expect(status).not.toBe(0)
    expect(output).toMatch(/no-folder-cycle: src\/(alpha|beta) →\s+src\/(beta|alpha) →/)
    expect(output).toContain('no-import-from-entry: src/beta/c.ts → src/main.ts')
    expect(output).toContain('no-import-from-parent-folder: src/gamma/inner/d.ts → src/gamma/g.ts')
    expect(output).toMatch(/actions-core-at-the-edges: src\/gamma\/talk\.ts → \S*@actions\/core/)
    // The fixture has no module cycle: a folder cycle is caught on its own.
    expect(output).not.toContain('no-module-cycle')
  })

  it('passes on the action itself, through the same command', () => {
    const lint = spawnSync('npm', ['run', '--silent', 'lint:boundaries'], {
      cwd: projectRoot,
      encoding: 'utf8'
    })
    expect(`${lint.stdout}${lint.stderr}`).toContain('no dependency violations found')
    expect(lint.status).toBe(0)
  })
})
