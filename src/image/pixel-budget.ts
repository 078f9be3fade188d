/**
 * A budget of decoded pixels: how many may be held decoded at once. An image waits (in arrival order) until its
 * pixels fit, so many small images decode together while two images near the size cap never do: a process's decode
 * memory stays near one largest image whatever the load (16-bit samples, RGB copy and float output included, about
 * 14 bytes a pixel at the peak).
 */
import {DEFAULT_MAX_PIXELS} from './decode.js'

export class PixelBudget {
  private used = 0
  private readonly waiting: Array<{pixels: number; grant: () => void}> = []

  constructor(readonly capacity: number = DEFAULT_MAX_PIXELS) {
    if (!(capacity >= 1)) throw new RangeError(`PixelBudget: capacity must be at least 1, got ${capacity}`)
  }

  get inUse(): number {
    return this.used
  }

  /** Waits until `pixels` (clamped to the capacity, so one image is always admitted alone) fit; returns the release. */
  async acquire(pixels: number): Promise<() => void> {
    const n = Math.max(0, Math.min(this.capacity, Math.ceil(pixels)))
    if (this.waiting.length === 0 && this.used + n <= this.capacity) {
      this.used += n
    } else {
      await new Promise<void>((grant) => this.waiting.push({pixels: n, grant}))
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.used -= n
      this.admit()
    }
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].pixels <= this.capacity) {
      const next = this.waiting.shift()!
      this.used += next.pixels
      next.grant()
    }
  }
}

/** The budget every decode of this process shares. */
export const processPixelBudget = new PixelBudget()
