import type {Progress} from '../src/core/progress.js'

/** A one-line progress bar redrawn in place on a terminal (at most ten times a second). */
export class TtyProgress implements Progress {
  private label = ''
  private total = 0
  private done = 0
  private started = 0
  private lastDraw = 0

  constructor(private readonly out: NodeJS.WriteStream) {}

  start(label: string, total: number): void {
    this.label = label
    this.total = total
    this.done = 0
    this.started = Date.now()
    this.lastDraw = 0
    this.draw(true)
  }

  advance(units: number): void {
    this.done += units
    this.draw(false)
  }

  stop(message?: string): void {
    this.draw(true)
    this.out.write(`\r\x1b[K${this.label}: ${message ?? 'done'} (${((Date.now() - this.started) / 1000).toFixed(1)}s)\n`)
  }

  private draw(force: boolean): void {
    const now = Date.now()
    if (!force && now - this.lastDraw < 100) return
    this.lastDraw = now
    const width = 30
    if (this.total > 0) {
      const frac = Math.min(1, this.done / this.total)
      const filled = Math.round(frac * width)
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
      this.out.write(`\r\x1b[K${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${this.done}/${this.total}`)
    } else {
      this.out.write(`\r\x1b[K${this.label} ${this.done}`)
    }
  }
}
