"""What each command does, one module per verb, without the command line.

Every module has an `Options` record (frozen), a result record with `to_dict()` (its `--json`
document), and `execute(options, progress)`. A command never prints and never prompts: progress
goes to the reporter it is given (fwsetup/progress.py), and a question (replace this environment?
install system packages? delete?) is answered before `execute` and arrives in its options. cli/
asks the questions, renders the results, and imports a module only when its command runs.
"""
