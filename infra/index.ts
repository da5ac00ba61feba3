// Entry point for `pulumi up`: the program's return value becomes the stack outputs.
import { program } from "./program";

export = program();
