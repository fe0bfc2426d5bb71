"""The /demand form's pickle file is rewritten for forms, not for every new person."""

from __future__ import annotations

from pathlib import Path

from telegram import Bot

from handlers.persistence import FormPersistence


async def _stored(path: Path) -> dict[int, dict[str, str]]:
    """What a restarted bot reads back from the file."""
    reader = FormPersistence(path)
    reader.set_bot(Bot("123456:TEST"))
    return dict(await reader.get_user_data())


async def test_people_who_never_open_a_form_do_not_rewrite_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.pickle"
    persistence = FormPersistence(path)
    for user_id in range(1000, 1100):  # a hundred people asking questions, no form
        await persistence.update_user_data(user_id, {})
    assert not path.exists()

    await persistence.update_user_data(7, {"draft": "招聘两名工程师"})
    assert await _stored(path) == {7: {"draft": "招聘两名工程师"}}
    await persistence.update_user_data(7, {})  # the form was sent: the draft is gone
    assert await _stored(path) == {7: {}}
