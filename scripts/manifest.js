// Writes oclif.manifest.json (as `oclif manifest` does) so that start-up imports only the command being run,
// not every command and its libraries. Uses @oclif/core alone: the `oclif` tool needs Node 22.
import {writeFileSync} from 'node:fs'
import {Plugin} from '@oclif/core'

const plugin = new Plugin({root: process.cwd(), type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
writeFileSync('oclif.manifest.json', JSON.stringify(plugin.manifest, null, 2) + '\n')
console.error(`wrote oclif.manifest.json (${Object.keys(plugin.manifest.commands).length} commands)`)
