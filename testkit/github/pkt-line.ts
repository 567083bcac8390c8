// Just enough of git's pkt-line protocol to log a push as it streams by: the commands at the start
// of a receive-pack request, and the report-status (inside side-band packets) of its answer.
export interface PushCommand {
  oldId: string
  newId: string
  ref: string
}

const LIMIT = 4 * 1024 * 1024
/** receive-pack's progress lines ("Resolving deltas:  50% (1/2)"), left out of a refusal's text. */
const PROGRESS = /^[A-Z][\w ]*:\s+\d+% \(\d+\/\d+\)/

/** Splits complete pkt-lines off `buffer`; `null` marks a flush (0000) or delim (0001) packet. */
function takePackets(buffer: Buffer): { packets: (Buffer | null)[]; rest: Buffer; bad: boolean } {
  const packets: (Buffer | null)[] = []
  let offset = 0
  while (buffer.length - offset >= 4) {
    const hex = buffer.toString('latin1', offset, offset + 4)
    if (!/^[0-9a-f]{4}$/i.test(hex)) return { packets, rest: Buffer.alloc(0), bad: true }
    const length = Number.parseInt(hex, 16)
    if (length < 4) {
      packets.push(null)
      offset += 4
      continue
    }
    if (buffer.length - offset < length) break
    packets.push(buffer.subarray(offset + 4, offset + length))
    offset += length
  }
  return { packets, rest: buffer.subarray(offset), bad: false }
}

/** The ref update commands and capabilities a receive-pack request opens with (up to the flush). */
export class PushCommandReader {
  readonly commands: PushCommand[] = []
  capabilities: string[] = []
  done = false
  private pending: Buffer = Buffer.alloc(0)

  feed(chunk: Buffer): void {
    if (this.done) return
    const { packets, rest, bad } = takePackets(Buffer.concat([this.pending, chunk]))
    this.pending = rest
    for (const packet of packets) {
      if (packet === null) {
        this.done = true
        break
      }
      let line = packet.toString('utf8')
      const nul = line.indexOf('\0')
      if (nul >= 0) {
        this.capabilities = line
          .slice(nul + 1)
          .trim()
          .split(/\s+/)
        line = line.slice(0, nul)
      }
      const match = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) (\S+)/.exec(line)
      if (match) this.commands.push({ oldId: match[1], newId: match[2], ref: match[3] })
    }
    if (bad || this.pending.length > LIMIT) this.done = true
    if (this.done) this.pending = Buffer.alloc(0)
  }
}

/** What receive-pack answered: `unpack ok|<error>`, `ok <ref>` / `ng <ref> <reason>`, and its stderr. */
export class ReceivePackReport {
  unpack: string | undefined
  readonly refs: { ref: string; ok: boolean; reason?: string }[] = []
  /** Side-band 2 (progress and hook output, shown by git as `remote: ...`) and 3 (fatal). */
  remoteText = ''
  private outer: Buffer = Buffer.alloc(0)
  private inner: Buffer = Buffer.alloc(0)

  constructor(private readonly sideband: boolean) {}

  feed(chunk: Buffer): void {
    if (!this.sideband) return this.feedReport(chunk)
    const { packets, rest } = takePackets(Buffer.concat([this.outer, chunk]))
    this.outer = rest.length > LIMIT ? Buffer.alloc(0) : rest
    for (const packet of packets) {
      if (!packet || packet.length === 0) continue
      const band = packet[0]
      if (band === 1) this.feedReport(packet.subarray(1))
      else if (this.remoteText.length < LIMIT)
        this.remoteText += packet.subarray(1).toString('utf8')
    }
  }

  private feedReport(chunk: Buffer): void {
    const { packets, rest } = takePackets(Buffer.concat([this.inner, chunk]))
    this.inner = rest.length > LIMIT ? Buffer.alloc(0) : rest
    for (const packet of packets) {
      if (!packet) continue
      const line = packet.toString('utf8').replace(/\n$/, '')
      if (line.startsWith('unpack ')) this.unpack = line.slice('unpack '.length)
      else if (line.startsWith('ok ')) this.refs.push({ ref: line.slice(3), ok: true })
      else if (line.startsWith('ng ')) {
        const [ref, ...reason] = line.slice(3).split(' ')
        this.refs.push({ ref, ok: false, reason: reason.join(' ') })
      }
    }
  }

  get accepted(): boolean {
    return this.unpack === 'ok' && this.refs.length > 0 && this.refs.every(r => r.ok)
  }

  /** The refusal as the pusher would read it: the remote's output, then the unpack and ref errors. */
  message(stderr = ''): string {
    const lines = [
      ...`${this.remoteText}\n${stderr}`.split(/\r?\n|\r/).map(line => line.trimEnd()),
      ...(this.unpack && this.unpack !== 'ok' ? [`unpack ${this.unpack}`] : []),
      ...this.refs.filter(r => !r.ok).map(r => `${r.ref} (${r.reason})`)
    ]
    return lines.filter(line => line && !PROGRESS.test(line)).join('\n')
  }
}
