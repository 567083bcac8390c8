// Preloaded into the bundled action (NODE_OPTIONS=--import) by the metadata-cost scenario: the action's
// clock runs BENCH_CLOCK_OFFSET_MS ahead, so "the next day" is a run, not a day of waiting.
const offset = Number(process.env.BENCH_CLOCK_OFFSET_MS ?? 0)
const RealDate = globalThis.Date
class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset)
    else super(...args)
  }
  static now() {
    return RealDate.now() + offset
  }
}
globalThis.Date = ShiftedDate
