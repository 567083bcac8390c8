// What the action asks of the filesystem in many places, answered once.
import * as fs from 'node:fs/promises'

/** True when `file` exists (a directory counts; a symlink to nothing does not). */
export async function pathExists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false
  )
}
