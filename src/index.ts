// The runner's entry: all work happens in run().
import { run } from './main.js'

await run()
