// The action's own peak memory, for the report and the benchmarks.
import * as fs from 'node:fs'

/**
 * Linux's VmHWM belongs to this program's address space. getrusage's maxRSS is not enough: Linux
 * carries it across exec, so a process started by a large parent would report the parent's size.
 */
export function peakRssBytes(): number {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8')
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(status)
    if (match) return Number(match[1]) * 1024
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS * 1024
}
