import type {Progress} from '../src/core/progress.js'

/** A one-line progress bar with a count, a rate and an ETA, redrawn in place at most ten times a second. */
export class TtyProgress implements Progress {
  private label = ''
  private total = 0
  private unit = ''
  private done = 0
  private started = 0
  private lastDraw = 0
  private statusText = ''

  constructor(private readonly out: NodeJS.WriteStream) {}

  start(label: string, total: number, unit = ''): void {
    Object.assign(this, {label, total, unit, done: 0, started: Date.now(), lastDraw: 0, statusText: ''})
    this.draw(true)
  }

  advance(units: number): void {
    this.done += units
    this.draw(false)
  }

  status(text: string): void {
    this.statusText = text
  }

  stop(message?: string): void {
    const seconds = (Date.now() - this.started) / 1000
    const rate = this.unit ? `, ${this.formatRate()}` : ''
    this.out.write(`\r\x1b[K${this.label}: ${message ?? 'done'} (${seconds.toFixed(1)}s${rate})\n`)
  }

  private rate(): number {
    const seconds = (Date.now() - this.started) / 1000
    return seconds > 0 ? this.done / seconds : 0
  }

  private amount(n: number): string {
    return this.unit === 'bytes' ? `${(n / 1e6).toFixed(1)} MB` : String(n)
  }

  private formatRate(): string {
    return this.unit === 'bytes' ? `${(this.rate() / 1e6).toFixed(1)} MB/s` : `${this.rate().toFixed(1)} ${this.unit}/s`
  }

  private draw(force: boolean): void {
    const now = Date.now()
    if (!force && now - this.lastDraw < 100) return
    this.lastDraw = now
    let line = `${this.label} `
    if (this.total > 0) {
      const width = 30
      const frac = Math.min(1, this.done / this.total)
      const filled = Math.round(frac * width)
      line += `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${(frac * 100).toFixed(0).padStart(3)}% ${this.amount(this.done)}/${this.amount(this.total)}`
    } else {
      line += this.amount(this.done)
    }
    if (this.unit) {
      const rate = this.rate()
      line += ` ${this.formatRate()}`
      if (this.total > 0) line += rate > 0 ? ` ETA ${formatSeconds((this.total - this.done) / rate)}` : ' ETA --'
    }
    if (this.statusText) line += ` ${this.statusText}`
    this.out.write(`\r\x1b[K${line}`)
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m}m${String(Math.ceil(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}
