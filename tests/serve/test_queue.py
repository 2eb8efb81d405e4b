"""The fair queue: FIFO admission, a bounded line, and no leaked slots on cancellation."""

from __future__ import annotations

import anyio
import pytest

from agent.serve.queue import FairQueue, QueueFullError
from tests.serve.conftest import eventually


async def test_requests_are_served_in_the_order_they_arrived() -> None:
    queue = FairQueue(concurrency=1, max_waiting=10)
    order: list[int] = []
    gate = anyio.Event()

    async def request(i: int) -> None:
        async with queue.reserve():
            if i == 0:
                await gate.wait()
            order.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(6):
            tg.start_soon(request, i)
            await eventually(lambda n=i: queue.active + queue.waiting == n + 1)
        gate.set()
    assert order == [0, 1, 2, 3, 4, 5]
    assert queue.active == 0 and queue.waiting == 0


async def test_a_full_line_refuses_at_once_with_a_retry_hint() -> None:
    queue = FairQueue(concurrency=2, max_waiting=1)
    held = [queue.reserve(), queue.reserve(), queue.reserve()]
    assert (queue.active, queue.waiting) == (2, 1)
    with pytest.raises(QueueFullError) as caught:
        queue.reserve()
    assert caught.value.retry_after >= 1 and "busy" in str(caught.value)
    for ticket in held:
        ticket.release()
    assert (queue.active, queue.waiting) == (0, 0)


async def test_a_waiter_cancelled_in_line_leaves_it_and_the_next_one_moves_up() -> None:
    queue = FairQueue(concurrency=1, max_waiting=2)
    first = queue.reserve()
    served: list[str] = []

    async def wait(name: str) -> None:
        async with queue.reserve():
            served.append(name)

    async with anyio.create_task_group() as tg:
        async with anyio.create_task_group() as doomed:
            doomed.start_soon(wait, "cancelled")
            await eventually(lambda: queue.waiting == 1)
            tg.start_soon(wait, "kept")
            await eventually(lambda: queue.waiting == 2)
            doomed.cancel_scope.cancel()
        assert queue.waiting == 1
        first.release()
    assert served == ["kept"]
    assert (queue.active, queue.waiting) == (0, 0)


async def test_a_holder_cancelled_while_running_frees_its_slot() -> None:
    queue = FairQueue(concurrency=1, max_waiting=1)

    async def hold() -> None:
        async with queue.reserve():
            await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold)
        await eventually(lambda: queue.active == 1)
        tg.cancel_scope.cancel()
    assert (queue.active, queue.waiting) == (0, 0)


def test_releasing_a_ticket_twice_frees_one_slot() -> None:
    queue = FairQueue(concurrency=2, max_waiting=0)
    a, b = queue.reserve(), queue.reserve()
    a.release()
    a.release()
    assert queue.active == 1
    b.release()
    assert queue.active == 0
