"""worker/scheduling.py: tasks made ready together run in the order they
were made ready. Checked in a fresh interpreter: in this one, hypothesis
makes trio's order deterministic (sorted, then shuffled) for the tests."""

import ast
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    import trio
    from korepyd.worker import scheduling

    if sys.argv[1] == "fifo":
        assert scheduling.first_come_first_served()

    async def main():
        orders = []
        for _ in range(40):
            events = [trio.Event() for _ in range(6)]
            ran = []
            async def waiter(i):
                await events[i].wait()
                ran.append(i)
            async with trio.open_nursery() as nursery:
                for i in range(6):
                    nursery.start_soon(waiter, i)
                await trio.testing.wait_all_tasks_blocked()
                for i in (3, 0, 5, 1, 4, 2):  # made ready in this order, in one step
                    events[i].set()
            orders.append(tuple(ran))
        print(sorted(set(orders)))

    import trio.testing
    trio.run(main)
""")


def _orders(mode: str) -> list[tuple[int, ...]]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout)


def test_ready_tasks_run_first_come_first_served():
    assert _orders("fifo") == [(3, 0, 5, 1, 4, 2)]


def test_without_it_trio_tosses_a_coin():
    """What the module changes: trio's own order is one direction or the other."""
    assert _orders("trio") == [(2, 4, 1, 5, 0, 3), (3, 0, 5, 1, 4, 2)]
