/** An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B (what PIL's `convert('RGB')` holds). */
export interface RgbImage {
  width: number
  height: number
  /** width * height * 3 bytes. */
  data: Uint8Array
}
