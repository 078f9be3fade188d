/**
 * Reads a model.safetensors (Hugging Face tensor names) into the parameter views a model family laid out: F32
 * tensors go from the file into their view with no intermediate copy, F16 and BF16 are widened on the way in. The
 * family says which tensors it needs (name, shape, view); this file knows no family's tensor names.
 */
import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError} from '../core/errors.js'
import {openOrUsage} from '../core/fs.js'
import type {TensorView} from '../models/family.js'
import {widenBf16, widenF16} from '../weights/dtype.js'
import {type SafetensorsHeader, type TensorInfo, readSafetensorsHeader} from '../weights/safetensors.js'

/** Weight dtypes vitrine reads; all are computed in float32. */
const READABLE_DTYPES = new Set(['F32', 'F16', 'BF16'])

/**
 * Fills every wanted view from `file`. A missing tensor, a wrong shape or an unreadable dtype is an
 * InvalidInputError naming the tensor(s), the expected and the actual shape; extra tensors are ignored.
 */
export async function readParameters(file: string, wanted: readonly TensorView[]): Promise<void> {
  const header = await checkParameters(file, wanted)
  const byName = new Map<string, TensorInfo>(header.tensors.map((t) => [t.name, t]))
  const inFileOrder = wanted.map((w) => ({w, t: byName.get(w.name) as TensorInfo})).sort((a, b) => a.t.begin - b.t.begin)
  const fh = await openOrUsage(file)
  try {
    // One scratch buffer for the 16-bit dtypes, sized for the largest such tensor.
    const maxHalfBytes = Math.max(0, ...inFileOrder.filter(({t}) => t.dtype !== 'F32').map(({t}) => t.end - t.begin))
    const scratch = new Uint8Array(maxHalfBytes)
    for (const {w, t} of inFileOrder) {
      const at = header.dataStart + t.begin
      const bytes = t.end - t.begin
      if (t.dtype === 'F32') {
        await readFully(fh, new Uint8Array(w.view.buffer, w.view.byteOffset, bytes), at, file)
      } else {
        const raw = scratch.subarray(0, bytes)
        await readFully(fh, raw, at, file)
        const halves = new Uint16Array(raw.buffer, 0, bytes / 2)
        if (t.dtype === 'F16') widenF16(w.view, halves)
        else widenBf16(w.view, halves)
      }
    }
  } finally {
    await fh.close()
  }
}

async function readFully(fh: FileHandle, into: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0
  while (done < into.length) {
    const {bytesRead} = await fh.read(into, done, into.length - done, position + done)
    if (bytesRead === 0) throw new InvalidInputError(`${file}: file ended at byte offset ${position + done} while reading tensor data (was it truncated while loading?)`, {file})
    done += bytesRead
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

function fmtShape(shape: number[]): string {
  return `[${shape.join(', ')}]`
}

/**
 * Checks `file`'s tensor table (its header only) against the tensors a model of the config needs: every one present,
 * of the config's shape and a readable dtype. Run before anything is allocated: the header's offsets were checked
 * against the file's real size, so once this passes the parameters take at most twice the file's bytes (16-bit
 * weights widen to float32), whatever config.json claims. Returns the header.
 */
export async function checkParameters(file: string, wanted: ReadonlyArray<{name: string; shape: number[]}>): Promise<SafetensorsHeader> {
  const header = await readSafetensorsHeader(file)
  const byName = new Map<string, TensorInfo>(header.tensors.map((t) => [t.name, t]))
  const problems: string[] = []
  const missing: string[] = []
  for (const w of wanted) {
    const t = byName.get(w.name)
    if (!t) missing.push(`'${w.name}' ${fmtShape(w.shape)}`)
    else if (!sameShape(t.shape, w.shape)) problems.push(`tensor '${w.name}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(w.shape)}`)
    else if (!READABLE_DTYPES.has(t.dtype)) problems.push(`tensor '${w.name}' has dtype ${t.dtype}; vitrine reads F32, F16 or BF16 weights`)
  }
  if (missing.length) {
    const shown = missing.slice(0, 5).join(', ')
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : ''
    problems.unshift(`${missing.length} tensor${missing.length === 1 ? ' is' : 's are'} missing: ${shown}${more} (expected shapes from config.json)`)
  }
  if (problems.length) {
    const hint = missing.length === wanted.length ? 'the tensor names are not the Hugging Face names of this model class: run `vitrine convert` on the model first' : undefined
    const more = problems.length > 6 ? `; and ${problems.length - 6} more` : ''
    throw new InvalidInputError(`${file}: ${problems.slice(0, 6).join('; ')}${more}`, {file, hint})
  }
  return header
}
