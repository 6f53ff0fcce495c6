"""Foundation every other package may import, and that imports no other package.

records    the small frozen records crossing every boundary (Sample, Request, Response, Score, ...)
errors     the exception tree (UserError -> ConfigError / DataError; RunFailed)
registry   the one name -> object registry (scorers, kinds, backends)
entry      how every `python -m harness.*` entry point starts: --help, one-line errors, exit codes
paths      where conf/, tasks/ (clone or installed wheel), the user's config folders and ../shared/data are
extensions plugins from other packages through importlib.metadata entry points
progress   the progress bar; testpoint: named kill points for reliability tests
bootstrap  seeded bootstrap resampling of examples in bounded memory
cost       what one response cost (tokens at their prices, compute time), for runs, judges and traces
"""
