"""The one base class of the errors a user can fix.

Every error raised because of what a user gave (a path, a file's content, an option, a model
name, a network that is off) derives from :class:`UserError`; the command line reports those
as one line and exit status 2. Any other exception is a bug of this package: the command line
says "internal error" and exits 1 (the traceback is printed with ``-v``).

``UserError`` derives from ``ValueError`` so that code written against the earlier, plain
``ValueError`` subclasses keeps working.
"""

from __future__ import annotations


class UserError(ValueError):
    """An input, option or environment problem the user can fix; the message names it and the fix."""


class UsageError(UserError):
    """A command-line option or combination of options that cannot work."""
