// The runner's entry: all work happens in run(). `node dist/index.js restore|verify ...` are the
// command lines for restoring and verifying a backup on any machine; restore/index.js enters here
// as the restore action.
import { run } from './main.js'
import { runRestoreAction } from './restore/action.js'
import { runRestoreCli, runVerifyCli } from './restore/cli.js'

const command = process.argv[2]
if (command === 'restore') process.exitCode = await runRestoreCli(process.argv.slice(3))
else if (command === 'verify') process.exitCode = await runVerifyCli(process.argv.slice(3))
else if (process.env.BITBUCKET_BACKUP_ENTRY === 'restore-action') await runRestoreAction()
else await run()
