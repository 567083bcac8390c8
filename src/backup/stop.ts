// When a run stops starting work: at its time budget (finishing what is in flight), or at once when
// the runner cancels it (SIGINT, then SIGTERM about 7.5 s later): git in flight is ended then.

export type StopReason = 'time-limit' | 'cancelled'

export interface RunClock {
  /** Aborted on cancellation: every git process started with it ends. */
  readonly signal: AbortSignal
  /** Why new work may not start, or undefined while it may. */
  readonly stopped: StopReason | undefined
  /**
   * Whether work expected to take `seconds` may start: it ends before the time limit leaves room
   * to finish, or it could never fit and the run has just begun (it would else wait forever).
   */
  mayStart(seconds: number): boolean
  /** Seconds since the run started. */
  elapsed(): number
  readonly limitSeconds: number | undefined
  /** Called by the entry when the runner signals. */
  cancel(): void
  /** Settles when the run is cancelled. */
  readonly cancelled: Promise<void>
}

/**
 * The share of the budget kept for the end (state, index, report): a twentieth, between 5 s and
 * 5 minutes, so a run with a 5h30m limit stops starting work at about 5h25m.
 */
function finishingReserve(limitSeconds: number): number {
  return Math.min(300, Math.max(5, limitSeconds / 20))
}

export function createRunClock(
  limitSeconds: number | undefined,
  now: () => number = Date.now
): RunClock {
  const started = now()
  const controller = new AbortController()
  let cancelled = false
  let onCancel = () => {}
  const cancelledPromise = new Promise<void>(resolve => (onCancel = resolve))
  const deadline =
    limitSeconds === undefined
      ? Infinity
      : started + (limitSeconds - finishingReserve(limitSeconds)) * 1000
  return {
    signal: controller.signal,
    get stopped() {
      if (cancelled) return 'cancelled'
      return now() >= deadline ? 'time-limit' : undefined
    },
    mayStart(seconds) {
      if (cancelled || now() >= deadline) return false
      if (now() + seconds * 1000 <= deadline) return true
      const budget = deadline - started
      return seconds * 1000 > budget && now() - started < budget / 10
    },
    elapsed: () => (now() - started) / 1000,
    limitSeconds,
    cancel() {
      if (cancelled) return
      cancelled = true
      controller.abort(new Error('the run was cancelled'))
      onCancel()
    },
    cancelled: cancelledPromise
  }
}
