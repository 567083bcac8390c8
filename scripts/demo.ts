// `npm run demo`: the bundled action, run as the runner runs it, against the embedded local Bitbucket.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runAction, type ActionRun } from '../testkit/action-runner.js'
import { workingCopy } from '../testkit/bitbucket/fixtures.js'
import { startLocalBitbucket } from '../testkit/bitbucket/index.js'

const bb = await startLocalBitbucket({ latencyMs: 5 })
const runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitbucket-backup-demo-'))
const show = (title: string, run: ActionRun) => {
  console.log(`\n=== ${title}: exit code ${run.exitCode} ===`)
  console.log(
    run.stdout
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
  )
  console.log('step outputs:', run.outputs)
}
try {
  bb.createWorkspace('demo')
  bb.addApiToken({ email: 'demo@example.com', username: 'demo', token: 'ATATT-demo-token' })
  for (let i = 1; i <= 6; i++) {
    bb.addRepository('demo', `service-${i}`, { projectKey: i % 2 ? 'WEB' : 'API' })
    const wc = await workingCopy(bb, 'demo', `service-${i}`)
    wc.write('README.md', `# service ${i}\n`)
    await wc.commit('first commit')
    await wc.tag('v1.0.0')
    if (i === 3) {
      wc.writeLfs('assets/logo.png', Buffer.alloc(64_000, i))
      await wc.commit('logo in LFS')
    }
    await wc.push()
  }
  bb.addRepository('demo', 'empty-repo', { empty: true })
  bb.addRepository('demo', 'locked', { denyGit: true })
  bb.addRepository('demo', 'legacy-hg', { scm: 'hg' })
  console.log(`Local Bitbucket: REST ${bb.apiUrl}, workspace "demo" with 9 repositories`)

  const inputs = {
    workspace: 'demo',
    'bitbucket-api-url': bb.apiUrl,
    'bitbucket-email': 'demo@example.com',
    'bitbucket-api-token': 'ATATT-demo-token',
    target: 'directory',
    'backup-dir': 'backup',
    exclude: 'locked'
  }
  const env = { RUNNER_ENVIRONMENT: 'self-hosted' }
  show('first run: everything is cloned', await runAction(inputs, { runnerDir, env }))
  const second = await runAction(inputs, { runnerDir, env })
  show('second run: nothing changed, nothing fetched', second)
  const wc = await workingCopy(bb, 'demo', 'service-2')
  wc.write('CHANGELOG.md', 'a change\n')
  await wc.commit('a change')
  await wc.push()
  const third = await runAction(inputs, { runnerDir, env })
  show('third run: one repository changed upstream', third)
  console.log('\n--- job summary of the third run (markdown) ---')
  console.log(third.summary)
  const backupDir = path.join(third.workspaceDir, 'backup', 'demo')
  console.log(`--- the backup directory ${backupDir} ---`)
  console.log(fs.readdirSync(backupDir).join('\n'))
  process.exitCode = third.exitCode
} finally {
  await bb.close()
  fs.rmSync(runnerDir, { recursive: true, force: true })
}
