// Captures the workflow commands (`::warning::`, `::error::`) and plain lines @actions/core prints.

export interface CapturedOutput {
  /** Every line written to stdout while capturing. */
  readonly lines: string[]
  /** Text of `::warning::` commands. */
  readonly warnings: string[]
  /** Text of `::error::` commands. */
  readonly errors: string[]
  /** Lines that are not workflow commands (core.info). */
  readonly infos: string[]
  /** Stops capturing (and echoing nothing more). */
  restore(): void
}

const commandText = (line: string, command: string) =>
  line.startsWith(`::${command}`) ? line.replace(/^::[a-z-]+[^:]*::/, '') : undefined

/**
 * Replaces `process.stdout.write` (which @actions/core uses for every log line and command) until
 * `restore()`. Output is swallowed unless `echo` is true.
 */
export function captureToolkitOutput(options: { echo?: boolean } = {}): CapturedOutput {
  const stdout = process.stdout
  const original = stdout.write
  const lines: string[] = []
  let partial = ''
  stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    partial += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const parts = partial.split(/\r?\n/)
    partial = parts.pop() ?? ''
    lines.push(...parts)
    if (options.echo)
      return (original as (...args: unknown[]) => boolean).call(stdout, chunk, ...rest)
    const callback = rest.find(arg => typeof arg === 'function') as (() => void) | undefined
    callback?.()
    return true
  }) as typeof stdout.write
  const pick = (command: string) =>
    lines.map(line => commandText(line, command)).filter((t): t is string => t !== undefined)
  return {
    lines,
    get warnings() {
      return pick('warning')
    },
    get errors() {
      return pick('error')
    },
    get infos() {
      return lines.filter(line => !line.startsWith('::'))
    },
    restore() {
      if (partial) lines.push(partial)
      partial = ''
      stdout.write = original
    }
  }
}
