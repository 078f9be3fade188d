import {describe, expect, it} from 'vitest'

import {TtyProgress} from '../../cli/progress.js'

function fakeStream(): {stream: NodeJS.WriteStream; text: () => string} {
  const chunks: string[] = []
  const stream = {write: (s: string) => chunks.push(s) > 0} as unknown as NodeJS.WriteStream
  return {stream, text: () => chunks.join('')}
}

describe('TtyProgress', () => {
  it('draws bytes as MB with a rate and an ETA, and a summary line at the end', () => {
    const {stream, text} = fakeStream()
    const p = new TtyProgress(stream)
    p.start('Converting w.bin', 4_000_000, 'bytes')
    p.advance(2_000_000)
    p.stop('done')
    const out = text()
    expect(out).toContain('0.0 MB/4.0 MB')
    expect(out).toMatch(/Converting w\.bin: done \(\d+\.\ds, [\d.]+ MB\/s\)\n$/)
  })

  it('counts other units as numbers with a per-second rate', () => {
    const {stream, text} = fakeStream()
    const p = new TtyProgress(stream)
    p.start('scoring', 20, 'images')
    p.advance(20)
    p.stop()
    expect(text()).toContain('0/20')
    expect(text()).toMatch(/images\/s/)
  })
})
