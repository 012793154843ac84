"""Updates of different chats side by side, each chat's in the order they arrived."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.ordering import PerChatOrder


def update(update_id: int, chat_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "text": "hi",
            },
        },
        None,
    )


async def test_one_chat_waits_for_itself_only() -> None:
    processor = PerChatOrder()
    log: list[str] = []
    release = {name: asyncio.Event() for name in ("a1", "a2", "b1")}

    async def handle(name: str) -> None:
        log.append(f"{name} starts")
        await release[name].wait()
        log.append(f"{name} ends")

    tasks = [
        asyncio.create_task(processor.process_update(update(1, 7), handle("a1"))),
        asyncio.create_task(processor.process_update(update(2, 7), handle("a2"))),
        asyncio.create_task(processor.process_update(update(3, 8), handle("b1"))),
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    # Chat 8 did not wait behind chat 7; chat 7's second update waits for its first.
    assert log == ["a1 starts", "b1 starts"]
    release["b1"].set()
    release["a2"].set()  # ready early, but still after a1
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == ["a1 starts", "b1 starts", "b1 ends"]
    release["a1"].set()
    await asyncio.gather(*tasks)
    assert log[3:] == ["a1 ends", "a2 starts", "a2 ends"]
    assert processor._locks == {} and processor._users == {}  # nothing kept for idle chats
