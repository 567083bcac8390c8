// What an error says, in one line, and which errors mean the runner's disk is full.

/** The message of anything thrown, never `[object Object]`. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The first line of the message: reports and annotations hold one line each. */
export function firstLineOf(error: unknown): string {
  return messageOf(error).split('\n')[0]
}

/** The stack of anything thrown when it has one (a repository's details), else what it says. */
export function stackOf(error: unknown): string {
  return error instanceof Error && error.stack ? error.stack : String(error)
}

/** Anything thrown, as an Error (with its stack when it had one). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/** ENOSPC from a write of ours, or git, git-lfs or tar saying the same in words. */
export function isDiskFull(error: unknown): boolean {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') return true
  const stderr = (error as { stderr?: unknown } | undefined)?.stderr
  const text = `${messageOf(error)}\n${typeof stderr === 'string' ? stderr : ''}`
  return /no space left on device|ENOSPC|disk quota exceeded/i.test(text)
}
