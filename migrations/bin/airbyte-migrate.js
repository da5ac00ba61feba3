#!/usr/bin/env node
// Executable entry point: lets Node load the TypeScript sources through tsx.
"use strict";
require("tsx/cjs");
require("../cli.ts").run();
