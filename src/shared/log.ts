// The one shape of a log: services write to it; the entry points hand them the step's log.

/**
 * Where a service says what happens: @actions/core, given by an entry point (src/main.ts, the
 * restore action), or an array in a test. Lines about one repository go to its details instead
 * (a `(line: string) => void`), which the run prints in that repository's group.
 */
export interface Log {
  /** A line of the step's log. */
  info(message: string): void
  /** Something the user should act on: an annotation on the run. */
  warning(message: string): void
  /** A line shown only when the workflow runs with step debug logging. */
  debug(message: string): void
}

/** The step's log itself: a Log that can also fold lines under a title (a repository's details). */
export interface StepLog extends Log {
  group(title: string, lines: readonly string[]): void
}
