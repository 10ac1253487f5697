#!/usr/bin/env node
// Stops with a readable message when this Node.js cannot run the named command
// (scripts/lib/node-requirements.mjs). Usage: node scripts/check-node.mjs <test|app|dist>
import { NODE_REQUIREMENTS, requireNodeFor } from './lib/node-requirements.mjs';

const command = process.argv[2];
if (!command || !(command in NODE_REQUIREMENTS)) {
  console.error(`usage: node scripts/check-node.mjs <${Object.keys(NODE_REQUIREMENTS).join('|')}>`);
  process.exit(2);
}
requireNodeFor(/** @type {keyof typeof NODE_REQUIREMENTS} */ (command));
