#!/usr/bin/env node

import {execute, settings} from '@oclif/core'

// Always the compiled dist/, whatever NODE_ENV says (oclif would otherwise look for the .ts sources of a checkout).
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
