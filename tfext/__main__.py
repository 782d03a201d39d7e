"""`tfext`: run a module program (as Terraform's external data source does), or a tool for people.

    tfext --list                      the programs and what they do
    tfext --version                   this tfext's version (the git tag of its release is v<version>)
    tfext PROGRAM                     read a query on stdin, answer on stdout (the external protocol)
    tfext summary                     table of `terraform output -json certificates` (stdin)
    tfext write-assets DIR            `terraform output -json` (stdin) as files, keys 0600 (--prune)
    tfext inspect FILE...             each certificate's chain, subject, SANs, usages, validity (--json)
    tfext check-expiration [SOURCE]   expiry table of a DIR, PEM file, state file, -, or the state here
    tfext topology [DIR]              which CA signs what and which flag uses each file, as Mermaid or DOT
    tfext install-provider DIR        install the offline hashicorp/external provider into a mirror
    tfext env                         shell lines putting tfext and the offline provider config in reach
    tfext heal                        the command re-issuing what stopped applies left (state pull on stdin)
    tfext migrate-state               drop the key copies of a tfext 0.1 state (state pull in, push out)
    tfext move-keys --to-dir DIR      move the state's keys into a key directory (state pull in, push out)
    tfext node-groups N               `moved` blocks putting the nodes in N stages (state pull in)

Every command takes --help.
"""

from __future__ import annotations

import sys
import warnings

USAGE = __doc__.strip() + "\n"

# Tools for people, loaded only when asked for: name -> "module:function" (argv in, exit code out).
COMMANDS = {
    "install-provider": "tfext.provider.install:main",
    "summary": "tfext.tools.summary:main",
    "write-assets": "tfext.tools.assets:main",
    "inspect": "tfext.tools.inspection:main",
    "check-expiration": "tfext.tools.expiration:main",
    "topology": "tfext.tools.topology:main",
    "env": "tfext.tools.env:main",
    "heal": "tfext.tools.statefile:heal_main",
    "migrate-state": "tfext.tools.statefile:migrate_main",
    "move-keys": "tfext.tools.movekeys:main",
    "node-groups": "tfext.tools.nodegroups:main",
}


def list_programs() -> str:
    from tfext.programs import PROGRAMS
    from tfext.protocol import load_schema

    width = max(map(len, PROGRAMS))
    return "".join(f"{name:<{width}}  {load_schema(name)['title'].split(': ', 1)[-1]}\n" for name in PROGRAMS)


def main(argv: list[str] | None = None) -> int:
    """Run one command; a closed or failing standard stream ends in a coded line (E091, E092, E093), or,
    when stderr itself is closed or full, in the exit status alone - never in a traceback."""
    from tfext import protocol

    argv = sys.argv[1:] if argv is None else argv
    name = argv[0] if argv else ""
    # Python's warnings never reach a user, as a program's never reach Terraform (tfext.protocol): a
    # certificate with a serial that is not positive made cryptography print a deprecation note, with our
    # source file and line, at each step of `tfext inspect` and `check-expiration`.
    with protocol.checked_std_streams(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failed = 2 if name in COMMANDS else 1
        try:
            code = _run(argv)
            sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's exit
            return code
        except BrokenPipeError:  # `tfext --list | head -1` is fine
            protocol.discard_pending(sys.__stdout__)
            return 0 if name in ("-h", "--help", "help", "--list", "--version", *COMMANDS) else 1
        except protocol.TfextError as exc:  # a closed or full stdout (or stdin) met outside a program
            prog = f"tfext {name}" if name in COMMANDS else "tfext"
            protocol.say(sys.stderr, f"{prog}: {exc.render()}")
            return failed


def _run(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]

    from tfext.programs import PROGRAMS

    if name in PROGRAMS:
        if rest:
            sys.stderr.write(f"tfext {name}: takes no arguments; it reads its query as JSON on stdin\n")
            return 2
        from tfext import protocol
        from tfext.programs import handler

        return protocol.run(name, handler(name))
    if name == "--list":
        sys.stdout.write(list_programs())
        return 0
    if name == "--version":
        from tfext import __version__

        sys.stdout.write(f"tfext {__version__}\n")
        return 0
    if name in COMMANDS:
        import importlib

        module, _, func = COMMANDS[name].partition(":")
        try:
            command = getattr(importlib.import_module(module), func)
        except ImportError as exc:
            sys.stderr.write(f"tfext {name}: missing dependency ({exc.name}); install tfext[provider]\n")
            return 2
        try:
            return command(rest)
        except BrokenPipeError:  # `tfext summary | head` is fine
            sys.stderr.close()
            return 0
    from tfext.errors import echo, safe_line

    # the name is echoed only when it is short and cannot be key material (`tfext "$(cat key.pem)"`)
    sys.stderr.write(
        safe_line(f"tfext: unknown program or command {echo(name)}; `tfext --list` shows the programs")
        + f"\n{USAGE}"
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
