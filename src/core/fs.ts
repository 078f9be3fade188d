import type {Stats} from 'node:fs'
import {type FileHandle, stat} from 'node:fs/promises'

import {describeFsError} from './errors.js'
import {type UserFileOptions, openUserFile} from './user-file.js'

/** stat() a path the user named: a missing or unreadable path is a usage error naming it (exit 2), not a crash. */
export async function statOrUsage(path: string): Promise<Stats> {
  try {
    return await stat(path)
  } catch (error) {
    throw describeFsError(error, path) ?? error
  }
}

/**
 * Opens a file the user named for reading: a missing or unreadable path is a usage error naming it (exit 2); a FIFO,
 * device or socket, or (with `within`) a symlink out of the folder, is refused (exit 1). See core/user-file.ts.
 */
export async function openOrUsage(path: string, options: UserFileOptions = {}): Promise<FileHandle> {
  return (await openUserFile(path, options)).fh
}
