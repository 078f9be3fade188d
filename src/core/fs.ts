import type {Stats} from 'node:fs'
import {type FileHandle, open, stat} from 'node:fs/promises'

import {describeFsError} from './errors.js'

/** stat() a path the user named: a missing or unreadable path is a usage error naming it (exit 2), not a crash. */
export async function statOrUsage(path: string): Promise<Stats> {
  try {
    return await stat(path)
  } catch (error) {
    throw describeFsError(error, path) ?? error
  }
}

/** Opens a file the user named for reading: a missing or unreadable path is a usage error naming it (exit 2). */
export async function openOrUsage(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r')
  } catch (error) {
    throw describeFsError(error, path) ?? error
  }
}
