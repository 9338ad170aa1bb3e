#!/usr/bin/env python3
"""Workload: count the entries below ROOT with os.walk (os.scandir's d_type, no stat), the way
CPython tools walk trees. Prints "entries dirs nondirs": on a mount whose readdir reports links
as DT_REG, links to directories land among the non-directories."""
import os
import sys

dirs = nondirs = 0
for _root, dirnames, filenames in os.walk(sys.argv[1]):
    dirs += len(dirnames)
    nondirs += len(filenames)
print(dirs + nondirs, dirs, nondirs)
