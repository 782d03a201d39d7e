"""Commands for people (`tfext summary`, `tfext inspect`, ...), as opposed to the module programs."""
