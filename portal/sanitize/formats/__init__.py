"""The cleaners, one module or package per family of formats.

Each cleaner has the same shape, `clean_<format>(src, dst, report, ctx)`: it reads
`src`, writes only allow-listed content to `dst`, records what it removed in
`report`, and hands every embedded file to `ctx.clean_embedded` (which refuses it
unless the engine passed the recursion down). The kinds table (`kinds.py`) says
which cleaner handles which kind; the engine (`core.py`) loads them by that name.
Nothing here imports the verifier (`verify/`) or the sandbox (`sandbox/`).
"""
