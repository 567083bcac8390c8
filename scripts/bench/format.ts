// How the bench's figures are summarised and written: medians, megabytes, seconds, goals.

export const MB = 1024 * 1024

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
export const formatMb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
export const seconds = (value: number) => `${value.toFixed(1)} s`
/** A goal's verdict, as the document says it. */
export const mark = (met: boolean) => (met ? 'met' : '**not met**')
