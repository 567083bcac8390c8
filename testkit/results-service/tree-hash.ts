// SHA-256 of every file under a directory, to compare what was saved with what came back.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

/** Maps each regular file's path (relative, `/`-separated) to the SHA-256 of its content. */
export function hashTree(root: string): Record<string, string> {
  const result: Record<string, string> = {}
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile()) {
        const relative = path.relative(root, full).split(path.sep).join('/')
        result[relative] = createHash('sha256').update(fs.readFileSync(full)).digest('hex')
      }
    }
  }
  walk(root)
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)))
}
