"""The ``splicebert`` command line: ``main`` and its exit policy (the verbs: ``score``,
``analyze``, ``manage``; the parser: ``parser``).

Exit status:
- 0: success;
- 2: a problem the user can fix, printed as one line: a :class:`~splicebert_plugin.errors.UserError`
  (bad input, option, model or network state), an operating-system error on a named path
  (missing, unreadable, disk full), a missing optional dependency, or an interruption;
- 1: anything else, a bug of this package: "internal error" and one line (``-v`` prints the
  traceback; please report it);
- 141: the reader of standard output went away (``| head``), quietly, as other Unix tools do.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from ..errors import UserError
from .parser import build_parser

log = logging.getLogger("splicebert_plugin")


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends a run the way Ctrl-C does: partial output kept, resumable


def is_user_error(error: BaseException) -> bool:
    """Whether ``error`` is the user's to fix (exit 2) rather than a bug (exit 1)."""
    if isinstance(error, UserError):
        return True
    if isinstance(error, OSError) and error.filename is not None:
        return True  # the system refused a named path: missing, permissions, disk full
    if isinstance(error, ModuleNotFoundError):
        return True  # an optional extra that is not installed (its message names the package)
    return False


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    from ..scoring.vcf_job import PartialRun

    from transformers.utils import logging as hf_logging

    previous_offline = os.environ.get("HF_HUB_OFFLINE")
    if getattr(args, "offline", False):
        os.environ["HF_HUB_OFFLINE"] = "1"  # one switch for the weights, the annotations and huggingface_hub
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # transformers' per-load bars; our own progress stays on stderr
    name = f"splicebert {args.command}"
    previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader of our output went away (e.g. `| head`): stop quietly, as other Unix tools do
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        print(f"{name}: interrupted; nothing was written to the output path", file=sys.stderr)
        return 2
    except PartialRun as error:
        cause = error.__cause__
        if isinstance(cause, BrokenPipeError):
            _silence_stdout()
            return 141
        user = error.interrupted or cause is None or is_user_error(cause)
        _report(name, error, args.verbose, bug=not user)
        return 2 if user else 1
    except Exception as error:
        user = is_user_error(error)
        _report(name, error, args.verbose, bug=not user)
        return 2 if user else 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if bars:
            hf_logging.enable_progress_bar()
        if previous_offline is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous_offline


def _report(name: str, error: BaseException, verbose: bool, bug: bool = False) -> None:
    if verbose:
        import traceback

        traceback.print_exception(error)
    kind = "internal error" if bug else "error"
    suffix = " (a bug in splicebert-plugin: please report it with the output of -v)" if bug else ""
    print(f"{name}: {kind}: {_describe(error)}{suffix}", file=sys.stderr)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
