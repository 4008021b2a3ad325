"""Kore's coroutine primitives on trio (Kore: python_kore_suspend() and
friends; reference section 1.5)."""

import trio


async def suspend(ms: int) -> None:
    """Sleep `ms` milliseconds without blocking the worker."""
    await trio.sleep(max(0, ms) / 1000)
