"""Filesystem scenarios written once and run twice: on a plain directory (the control) and through a
dtypefs mount. Each scenario takes its own empty directory and returns plain data (values, errno
names, comparable stat fields, contents); test_operations.py asserts both runs return the same, so
every difference is a dtypefs bug. Scenarios must never return absolute paths, absolute inode
numbers or timestamps they did not set: those differ between the two runs for innocent reasons.

One module per operation group, as FuseBridge and Passthrough group them (namespace,
attributes, files, directories) plus one for unprivileged callers; `ctypes_calls` holds the libc
entry points Python lacks, `observe` and `processes` the helpers every scenario uses.
"""
from . import attributes, callers, directories, files, namespace  # noqa: F401  (they register)
from .observe import OTHER_GID, OTHER_UID, attempt, digest, errname, write  # noqa: F401
from .processes import as_user, drop_caches, lock_child, posix_lock  # noqa: F401
from .registry import SCENARIOS, scenario  # noqa: F401
