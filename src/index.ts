// The runner's entry: all work happens in run(). `node dist/index.js restore|verify ...` are the
// command lines for restoring and verifying a backup on any machine.
import { run } from './main.js'
import { runRestoreCli, runVerifyCli } from './restore/cli.js'

const command = process.argv[2]
if (command === 'restore') process.exitCode = await runRestoreCli(process.argv.slice(3))
else if (command === 'verify') process.exitCode = await runVerifyCli(process.argv.slice(3))
else await run()
