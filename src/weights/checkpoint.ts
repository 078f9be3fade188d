import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError} from '../core/errors.js'
import {openOrUsage} from '../core/fs.js'
import {readNpz} from './npy.js'
import {MAX_HEADER_BYTES, readSafetensorsHeaderFrom} from './safetensors.js'
import type {Checkpoint, Container, SourceTensor} from './source.js'
import {readTorchZip} from './torch.js'
import {ZipReader, looksLikeZip} from './zip.js'

/**
 * Opens a weights file of any supported container, detected from its content (never its extension):
 * safetensors (8-byte header length, then `{`), a torch.save zip (holds `data.pkl`), or an npz (a zip of `.npy`).
 */

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  let done = 0
  while (done < length) {
    const {bytesRead} = await fh.read(buf, done, length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return buf.subarray(0, done)
}

/** What the first bytes say the file is; undefined when it is none of the containers. */
export async function detectContainer(fh: FileHandle, file: string): Promise<Container | undefined> {
  const {size} = await fh.stat()
  const head = await readAt(fh, 0, 16)
  if (looksLikeZip(head)) {
    const zip = await ZipReader.open(fh, file)
    const names = [...zip.entries.keys()]
    if (names.some((n) => n === 'data.pkl' || n.endsWith('/data.pkl'))) return 'torch-zip'
    if (names.length > 0 && names.every((n) => n.endsWith('.npy') || n.endsWith('/'))) return 'npz'
    return undefined
  }
  // safetensors: a little-endian u64 header length that fits the file, then a JSON object.
  if (head.length >= 9) {
    const n = Number(head.readBigUInt64LE(0))
    if (head[8] === 0x7b && n >= 2 && n <= MAX_HEADER_BYTES) return 'safetensors'
    if (head[8] === 0x7b && size > 8) return 'safetensors' // header length broken: let the parser say how
  }
  return undefined
}

async function readSafetensorsCheckpoint(fh: FileHandle, file: string): Promise<Checkpoint> {
  const header = await readSafetensorsHeaderFrom(fh, file)
  const tensors = new Map<string, SourceTensor>()
  for (const t of header.tensors) {
    const at = header.dataStart + t.begin
    tensors.set(t.name, {
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      location: `byte offset ${at}`,
      async read() {
        const data = await readAt(fh, at, t.end - t.begin)
        if (data.length !== t.end - t.begin) throw new InvalidInputError(`${file}: tensor '${t.name}' at byte offset ${at}: the file ended early (was it truncated while reading?)`, {file})
        return data
      },
    })
  }
  return {container: 'safetensors', file, tensors, close: () => fh.close()}
}

const CONTAINER_NAMES: Record<Container, string> = {
  safetensors: 'a safetensors file',
  'torch-zip': 'a torch.save zip archive (data.pkl + data/N)',
  npz: 'a numpy .npz archive',
}

/**
 * Opens `file` and reads its tensor index (names, dtypes, shapes; no tensor data yet). With `expect`, the file must
 * be that container. The caller closes the checkpoint.
 */
export async function openCheckpoint(file: string, expect?: Container): Promise<Checkpoint> {
  const fh = await openOrUsage(file)
  try {
    const st = await fh.stat()
    const size = st.size
    if (!st.isFile()) throw new InvalidInputError(`${file}: not a regular file`, {file})
    const found = await detectContainer(fh, file)
    if (expect && found !== expect) {
      throw new InvalidInputError(`${file}: expected ${CONTAINER_NAMES[expect]}, but ${found ? `the content is ${CONTAINER_NAMES[found]}` : 'the content is none of the supported kinds'}`, {file})
    }
    // Content that fits no container but is named .safetensors: let the safetensors parser say what is wrong with it.
    if (!found && !expect && file.endsWith('.safetensors')) return await readSafetensorsCheckpoint(fh, file)
    if (!found) {
      const head = await readAt(fh, 0, 4)
      const legacy = head[0] === 0x80 && head[1] >= 2 && head[1] <= 5
      throw new InvalidInputError(
        legacy
          ? `${file}: a bare pickle (the legacy torch.save format of PyTorch < 1.6); only the zip format is read`
          : `${file}: not a weights file vitrine reads (${size} bytes; expected safetensors, a torch.save zip archive or a numpy .npz)`,
        {file, hint: legacy ? 'Re-save it with a current PyTorch: torch.save(torch.load(f), g), or as safetensors.' : undefined},
      )
    }
    if (found === 'safetensors') return await readSafetensorsCheckpoint(fh, file)
    if (found === 'torch-zip') return await readTorchZip(fh, file)
    return await readNpz(fh, file)
  } catch (error) {
    await fh.close().catch(() => undefined)
    throw error
  }
}
