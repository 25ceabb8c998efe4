"""The seccomp allow-lists of the cleaning sandbox, compiled with libseccomp.

Threat: code running in a cleaning process after a parser bug (Pillow, libheif,
qpdf, lxml) asks the kernel for what a parser never needs: a socket to reach
PostgreSQL, Redis or nginx, ptrace or process_vm_readv to read the server's
memory, a new process to fork-bomb with, a program to exec, a mount, a key,
BPF, io_uring. Each such call fails with EPERM; only the calls listed here run.

Three programs, each a strict subset of the one before, stacked by the kernel
(a stacked filter can only take rights away):

- `base`, loaded by bubblewrap just before it starts the interpreter (and into
  its own reaper, PID 1 of the sandbox): what the zygote, the interpreter's
  start-up and bubblewrap's reaper need, including fork and exec;
- `zygote`, which the zygote adds once its parsers are imported: no more exec;
- `cleaner`, which every cleaning process adds before it reads a byte of
  input: no fork (threads only), no exec, no sockets of any kind, no signals
  (to the zygote, to other uploads' cleaners or to itself), no waiting for
  children, limits can be read, not set.

The programs are built here, in the server (libseccomp through pyseccomp),
and handed to the sandbox as bytes, so nothing inside it needs libseccomp.
libseccomp adds the architecture check: a system call made through another
ABI (i386 or x32 on x86-64) kills the process.
"""

from __future__ import annotations

import contextlib
import errno
import os
from functools import cache
from typing import Any

# Everything a confined Python process and the parsers' C libraries use:
# reading, mapping and closing what is already open or readable, memory,
# threads' futexes, clocks, randomness. No signal to any process, not even
# itself: the zygote and other uploads' cleaners share the PID namespace, and
# a cleaner that calls abort() dies all the same.
COMMON = frozenset({
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "preadv2",
    "pwritev", "pwritev2", "lseek", "close", "close_range", "dup", "dup2", "dup3", "fcntl",
    "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs", "openat", "open",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd",
    "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "mincore", "futex",
    "futex_waitv", "get_robust_list", "set_robust_list", "rseq", "set_tid_address",
    "arch_prctl", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "sigaltstack", "restart_syscall", "getpid", "getppid", "gettid",
    "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid",
    "getpgrp", "getpgid", "getsid", "getrandom", "clock_gettime", "clock_getres",
    "clock_nanosleep", "nanosleep", "gettimeofday", "time", "times", "uname", "sysinfo",
    "getrlimit", "getrusage", "sched_getaffinity", "sched_yield", "sched_getparam",
    "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "getpriority", "getcpu", "exit", "exit_group", "poll", "ppoll", "select", "pselect6",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "epoll_pwait2", "eventfd2", "membarrier", "fadvise64", "umask",
})

# The zygote forks one child per file, receives the child's pipes over its
# control socket (inherited, never created), reaps children and hands the
# caller a pidfd of each; it sets the limits and filters it passes on.
ZYGOTE = COMMON | frozenset({
    "clone", "wait4", "waitid", "recvmsg", "sendmsg", "recvfrom", "sendto",
    "getsockopt", "getsockname", "getpeername", "pidfd_open", "pipe", "pipe2",
    "setrlimit", "seccomp", "tgkill", "tkill",
})

# bubblewrap loads `base` right before it executes the interpreter.
BASE = ZYGOTE | frozenset({"execve"})

ROLES = {"base": BASE, "zygote": ZYGOTE, "cleaner": COMMON}

# The renderer of safe copies (`safecopy/__init__.py`) runs LibreOffice, poppler and
# Tesseract: programs that fork, exec, write scratch files and talk to
# themselves over Unix sockets, with far too many system calls to list. Its
# filter is therefore a deny-list, and the sandbox's namespaces do the rest
# (an empty network namespace, an empty read-only root with a scratch tmpfs).
# Denied: every socket but AF_UNIX, and what reaches past the sandbox or into
# the kernel's rarer corners.
RENDERER_DENIED = frozenset({
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "setns", "unshare", "fsopen", "fsmount",
    "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "open_by_handle_at", "name_to_handle_at",
    "swapon", "swapoff", "reboot", "acct", "quotactl", "iopl", "ioperm", "syslog",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname", "lookup_dcookie", "fanotify_init", "vhangup", "personality",
    "uselib", "nfsservctl", "mbind", "migrate_pages", "move_pages", "set_mempolicy",
})
AF_UNIX = 1

# prctl options a confined process may use. PR_SET_DUMPABLE only to turn it off.
PR_SET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE = 1, 3, 4
PR_SET_NAME, PR_GET_NAME, PR_GET_SECCOMP, PR_SET_SECCOMP = 15, 16, 21, 22
PR_CAPBSET_READ, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 23, 38, 39
SECCOMP_MODE_FILTER = 2
_PRCTL_READ_ONLY = (PR_GET_DUMPABLE, PR_SET_NAME, PR_GET_NAME, PR_GET_SECCOMP,
                    PR_CAPBSET_READ, PR_GET_NO_NEW_PRIVS)

# ioctl requests: "is this a terminal?" (asked for every file Python opens) and
# close-on-exec / non-blocking flags. Nothing that talks to a device.
TCGETS, TIOCGWINSZ, FIONBIO, FIONCLEX, FIOCLEX = 0x5401, 0x5413, 0x5421, 0x5450, 0x5451
CLONE_THREAD = 0x00010000


def program(role: str) -> bytes:
    """The BPF program for `role` ("base", "zygote", "cleaner" or "renderer"), as the kernel
    loads it."""
    return _compiled()[role]


@cache
def _compiled() -> dict[str, bytes]:
    return {role: _build(role) for role in (*ROLES, "renderer")}


def _build(role: str) -> bytes:
    import pyseccomp as sc  # the server builds; nothing in the sandbox needs libseccomp

    if role == "renderer":
        return _build_renderer(sc)

    policy = sc.SyscallFilter(sc.ERRNO(errno.EPERM))
    # A binary search over system call numbers instead of a list: every call a
    # parser makes passes three stacked filters.
    with contextlib.suppress(OSError):
        policy.set_attr(sc.Attr.CTL_OPTIMIZE, 2)
    arch = sc.system_arch()
    for name in sorted(ROLES[role]):
        if name == "clone" and role == "cleaner":
            continue
        if sc.resolve_syscall(arch, name) >= 0:  # older kernels' tables lack some names
            policy.add_rule(sc.ALLOW, name)
    if role == "cleaner":
        # Threads only: clone without CLONE_THREAD is fork.
        policy.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, CLONE_THREAD))
        # Limits can be read, never changed (prlimit64 with no new limit).
        policy.add_rule(sc.ALLOW, "prlimit64", sc.Arg(0, sc.EQ, 0), sc.Arg(2, sc.EQ, 0))
    else:
        policy.add_rule(sc.ALLOW, "prlimit64", sc.Arg(0, sc.EQ, 0))
        policy.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.EQ, PR_SET_NO_NEW_PRIVS))
        policy.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.EQ, PR_SET_PDEATHSIG))
        policy.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.EQ, PR_SET_SECCOMP),
                        sc.Arg(1, sc.EQ, SECCOMP_MODE_FILTER))
    for option in _PRCTL_READ_ONLY:
        policy.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.EQ, option))
    policy.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.EQ, PR_SET_DUMPABLE), sc.Arg(1, sc.EQ, 0))
    for request in (TCGETS, TIOCGWINSZ, FIONBIO, FIONCLEX, FIOCLEX):
        policy.add_rule(sc.ALLOW, "ioctl", sc.Arg(1, sc.EQ, request))
    # Threads may lower their own priority (x265 does), never touch another's.
    policy.add_rule(sc.ALLOW, "setpriority", sc.Arg(0, sc.EQ, 0), sc.Arg(1, sc.EQ, 0))
    # glibc tries clone3 first and falls back to clone only on ENOSYS; clone3's
    # flags sit in memory a filter cannot read, so it is refused for everyone.
    policy.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    return _export(policy)


def _build_renderer(sc: Any) -> bytes:
    policy = sc.SyscallFilter(sc.ALLOW)
    arch = sc.system_arch()
    for name in sorted(RENDERER_DENIED):
        if sc.resolve_syscall(arch, name) >= 0:
            policy.add_rule(sc.ERRNO(errno.EPERM), name)
    # No network of any kind: a socket is a Unix one or none (the namespace's
    # loopback is down and empty, this makes it doubly so).
    policy.add_rule(sc.ERRNO(errno.EPERM), "socket", sc.Arg(0, sc.NE, AF_UNIX))
    policy.add_rule(sc.ERRNO(errno.EPERM), "socketpair", sc.Arg(0, sc.NE, AF_UNIX))
    return _export(policy)


def _export(policy: Any) -> bytes:
    fd = os.memfd_create("penname-seccomp", os.MFD_CLOEXEC)
    try:
        policy.export_bpf(_Descriptor(fd))
        size = os.lseek(fd, 0, os.SEEK_CUR)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


class _Descriptor:
    """What libseccomp's exporter needs of a file: its descriptor."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd
