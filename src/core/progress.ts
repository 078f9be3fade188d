/**
 * Long work (conversion, upload, batch scoring) reports progress through this interface. The library never
 * decides whether to draw: the command passes a TTY renderer, or `silentProgress` under --json and in CI.
 */
export interface Progress {
  /**
   * Starts a task of `total` units; `total` 0 means unknown. `unit` names what is counted ('bytes' is drawn as MB;
   * anything else, e.g. 'images', as a count) so the renderer can show a rate and an ETA.
   */
  start(label: string, total: number, unit?: string): void
  /** Adds `units` done. */
  advance(units: number): void
  /** Optional: a short status shown beside the bar (e.g. the latest training loss). */
  status?(text: string): void
  /** Ends the current task. */
  stop(message?: string): void
}

export const silentProgress: Progress = {
  start() {},
  advance() {},
  stop() {},
}
