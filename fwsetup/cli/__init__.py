"""The command line: parse options, call a stage, render its result. Thin by design."""
