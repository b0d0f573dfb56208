"""The `hpdsl` command line: thin command modules that call into the rest.

`app` holds the table of subcommands and `main`; `check`, `compile`, `test`, `trace`, `simulate`
and `verify` are one command each (fmt, doc, diff and lsp declare and run themselves in
hpdsl.tools); `common` holds the exit codes and shared arguments.

May import: everything; nothing imports it (the `hpdsl` script calls `hpdsl.cli.main`).
"""

from hpdsl.base.render import use_color as use_color
from hpdsl.base.render import write as write
from hpdsl.cli.app import COMMANDS as COMMANDS
from hpdsl.cli.app import Command as Command
from hpdsl.cli.app import build_parser as build_parser
from hpdsl.cli.app import main as main
from hpdsl.cli.common import DEBUG_ENV as DEBUG_ENV
from hpdsl.cli.common import EXIT_ERRORS as EXIT_ERRORS
from hpdsl.cli.common import EXIT_INTERNAL as EXIT_INTERNAL
from hpdsl.cli.common import EXIT_OK as EXIT_OK
from hpdsl.cli.common import EXIT_USAGE as EXIT_USAGE
