"""Bounds on one extractor call: wall time and growth of resident memory.

Why in-process guards and not a subprocess per file: most artifact files take milliseconds,
and a process per file would cost more than the parsing. A hostile file (a decompression bomb,
a loop over a forged count) is stopped where it runs instead: a timer signal for time, and a
watchdog thread that signals the main thread when the process's resident memory has grown by
more than the limit since the call began. Both raise inside the extractor, so the engine
records the file as an error and goes on. Both work only on the main thread of a POSIX
process (signals); elsewhere they are inactive, and say so through `active`.
Limitation, stated honestly: a signal is handled between Python bytecodes, so a single long
call into a C library is stopped only when it returns.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any


class ExtractionTimeout(BaseException):
    """One extractor call ran past its time limit (--file-timeout). A BaseException, like
    KeyboardInterrupt, so that a parser's own `except Exception` cannot swallow it."""


class ExtractionMemoryLimit(BaseException):
    """One extractor call grew the process's memory past its limit (--file-memory); a
    BaseException for the same reason."""


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class _Armed:
    """The guard whose signal is expected now, per signal. The handlers are installed once
    and never removed: a signal that arrives just after a guard ended (the timer fired, or the
    watchdog signalled, as the call finished) then finds no guard and is ignored, instead of
    meeting the default action, which would end the process."""

    current: dict[int, Any] = {}
    installed: set[int] = set()

    @classmethod
    def arm(cls, signum: int, guard: Any) -> None:
        if signum not in cls.installed:
            signal.signal(signum, cls._handle)
            cls.installed.add(signum)
        cls.current[signum] = guard

    @classmethod
    def disarm(cls, signum: int) -> None:
        cls.current.pop(signum, None)

    @classmethod
    def _handle(cls, signum: int, frame: Any) -> None:
        guard = cls.current.get(signum)
        if guard is not None:
            guard.fire()


class Deadline:
    """Bounds one call in time (SIGALRM): raises `error(message)` when the time is up."""

    def __init__(self, seconds: float, error: type[BaseException] = ExtractionTimeout,
                 message: str = "gave up after {seconds:g} s (--file-timeout)"):
        self.seconds = seconds
        self.error, self.message = error, message
        self.active = seconds > 0 and _on_main_thread() and hasattr(signal, "setitimer")

    def fire(self) -> None:
        _Armed.disarm(signal.SIGALRM)
        raise self.error(self.message.format(seconds=self.seconds))

    def __enter__(self) -> "Deadline":
        if self.active:
            _Armed.arm(signal.SIGALRM, self)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _Armed.disarm(signal.SIGALRM)


_STATM = "/proc/self/statm"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """This process's resident set size now (Linux /proc), or None where unknown."""
    try:
        with open(_STATM, "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_CAN_WATCH: bool | None = None  # resident memory readable here (checked once)


class _Watcher:
    """One daemon thread per process that watches the guard armed at the moment: why one and
    not one per guarded call: a run guards every artifact file, thousands of them, and most
    take milliseconds; starting a thread for each would cost more than the parsing."""

    lock = threading.Lock()
    thread: threading.Thread | None = None
    guard: "MemoryGuard | None" = None
    wake = threading.Event()

    @classmethod
    def watch(cls, guard: "MemoryGuard") -> None:
        with cls.lock:
            cls.guard = guard
            if cls.thread is None or not cls.thread.is_alive():
                cls.thread = threading.Thread(target=cls._run, daemon=True,
                                              name="triage-memory-guard")
                cls.thread.start()
        cls.wake.set()

    @classmethod
    def stop(cls, guard: "MemoryGuard") -> None:
        with cls.lock:
            if cls.guard is guard:
                cls.guard = None

    @classmethod
    def _run(cls) -> None:
        target = threading.main_thread().ident
        while True:
            guard = cls.guard
            if guard is None:
                cls.wake.wait()
                cls.wake.clear()
                continue
            time.sleep(guard.interval)
            now = resident_bytes()
            with cls.lock:
                if cls.guard is not guard or now is None:
                    continue
                growth = now - guard.baseline
                guard.peak_growth = max(guard.peak_growth, growth)
                if growth > guard.limit and target is not None:
                    guard.tripped = True
                    cls.guard = None
                    signal.pthread_kill(target, signal.SIGUSR1)


class MemoryGuard:
    """Bounds the growth of resident memory during one call (watchdog thread + SIGUSR1)."""

    def __init__(self, limit_bytes: int, interval: float = 0.05):
        global _CAN_WATCH
        if _CAN_WATCH is None:
            _CAN_WATCH = hasattr(signal, "pthread_kill") and resident_bytes() is not None
        self.limit = limit_bytes
        self.interval = interval
        self.active = limit_bytes > 0 and _on_main_thread() and _CAN_WATCH
        self.peak_growth = 0
        self.baseline = 0
        self.tripped = False

    def fire(self) -> None:
        if self.tripped:
            self.tripped = False  # raise once per trip
            _Armed.disarm(signal.SIGUSR1)
            raise ExtractionMemoryLimit(
                f"gave up: memory grew by more than {self.limit // (1024 * 1024)} MiB "
                "(--file-memory)")

    def __enter__(self) -> "MemoryGuard":
        if self.active:
            self.baseline = resident_bytes() or 0
            self.tripped = False
            _Armed.arm(signal.SIGUSR1, self)
            _Watcher.watch(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.active:
            _Watcher.stop(self)
            self.tripped = False
            _Armed.disarm(signal.SIGUSR1)
