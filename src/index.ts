// The runner's entry: all work happens in run(). `node dist/index.js restore ...` is the restore CLI.
import { run } from './main.js'
import { runRestoreCli } from './restore/cli.js'

if (process.argv[2] === 'restore') process.exitCode = await runRestoreCli(process.argv.slice(3))
else await run()
