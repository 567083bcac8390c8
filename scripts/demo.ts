// `npm run demo`: the bundled action, run as the runner runs it, against the embedded local Bitbucket.
import * as fs from 'node:fs'
import { runAction } from '../__tests__/support/action-runner.js'
import { startLocalBitbucket } from '../__tests__/support/bitbucket/index.js'

const bb = await startLocalBitbucket({ latencyMs: 20 })
try {
  bb.createWorkspace('demo')
  const projects = ['WEB', 'API', 'OPS']
  for (let i = 0; i < 24; i++) {
    bb.addRepository('demo', `service-${i + 1}`, { projectKey: projects[i % 3], empty: i === 5 })
  }
  bb.addRepository('demo', 'legacy-hg', { scm: 'hg' })
  bb.addApiToken({ email: 'demo@example.com', username: 'demo', token: 'ATATT-demo-token' })
  console.log(`Local Bitbucket: REST ${bb.apiUrl}, 25 repositories in workspace "demo"\n`)

  const run = await runAction({
    workspace: 'demo',
    'bitbucket-api-url': bb.apiUrl,
    'bitbucket-email': 'demo@example.com',
    'bitbucket-api-token': 'ATATT-demo-token',
    exclude: 'service-2*',
    'dry-run': 'true'
  })
  console.log("--- the action's log ---")
  console.log(run.stdout)
  console.log('--- step outputs ---')
  console.log(run.outputs)
  console.log('\n--- job summary (markdown) ---')
  console.log(run.summary)
  console.log(
    `--- JSON report: ${run.outputs.report} (${fs.statSync(run.outputs.report).size} bytes) ---`
  )
  console.log(
    `REST requests seen by the local Bitbucket: ${bb.requests.length}; exit code ${run.exitCode}`
  )
  process.exitCode = run.exitCode
} finally {
  await bb.close()
}
