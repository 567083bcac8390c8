// The part of unzip-stream (no types of its own) the artifact source uses: a zip in, files out.
declare module 'unzip-stream' {
  import type { Writable } from 'node:stream'

  /** Writes each entry under `path` (".." in entry names defused); emits 'close' when all are written. */
  export function Extract(options: { path: string }): Writable

  const unzip: { Extract: typeof Extract }
  export default unzip
}
