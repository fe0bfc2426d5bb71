"""The console chat: the same conversation core as Telegram, in a terminal.

On a terminal it is interactive (rich prompts and panels); when standard input is not a
terminal it reads one message per line and prints each reply followed by a blank line, so it
can be scripted and tested.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable
from typing import TextIO

from bot.assistant import Assistant, Person, Reply
from bot.formatting import PLAIN, render_also, render_answer, render_answers, render_suggestions
from bot.texts import Texts
from knowledge.schema import Audience
from knowledge.verdict import Outcome

__all__ = ["ConsoleChat", "console_person"]

_ROLE_WORDS = {
    "人才": Audience.TALENT,
    "talent": Audience.TALENT,
    "企业": Audience.ENTERPRISE,
    "enterprise": Audience.ENTERPRISE,
}


def console_person(language: str) -> Person:
    """The person at this terminal."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in some containers
        user = "local"
    return Person(key=f"console:{user}", display_name=user, language=language)


class ConsoleChat:
    """One console conversation; ``say`` returns the text to print for a line typed."""

    def __init__(
        self, assistant: Assistant, person: Person, t: Texts, office: dict[str, str]
    ) -> None:
        self.assistant = assistant
        self.person = person
        self.t = t
        self.office = office
        self._pending: tuple[str, ...] = ()
        self._shown: str | None = None
        """The entry whose whole answer this session printed last: only that one can be
        pointed back at (a new session within the follow-up window has printed nothing)."""

    def render(self, reply: Reply) -> str:
        """Plain-text rendering of a core reply."""
        kb = self.assistant.knowledge.kb
        if reply.outcome in (Outcome.ANSWERED, Outcome.MULTI) and reply.entries:
            shown = reply.entries[0].id if len(reply.entries) == 1 else None
            repeated = reply.repeated and shown is not None and shown == self._shown
            self._shown = shown
            text = render_answers(
                reply.entries,
                kb,
                self.t,
                self.office,
                PLAIN,
                audience=self.person.audience,
                repeated=repeated,
            )
            if reply.also:
                text += "\n\n" + render_also(reply.also, self.t, PLAIN, numbered=True)
            return text
        if reply.outcome is Outcome.UNCLEAR:
            return self.t.t("unclear.text")
        if reply.outcome is Outcome.HANDOVER:
            if reply.ticket_id is not None:
                return self.t.t("human.opened", ticket=reply.ticket_id)
            return self.t.t("human.recorded", **self.office)
        if reply.outcome is Outcome.SUGGESTED:
            return render_suggestions(
                reply.suggestions, self.t, PLAIN, numbered=True, several=reply.match.several
            )
        if reply.outcome is Outcome.SMALLTALK and reply.smalltalk:
            return self.t.t(f"smalltalk.{reply.smalltalk}")
        return self.t.t("unmatched.text", **self.office)

    async def say(self, line: str) -> str | None:
        """Handles one typed line; returns the reply text, or ``None`` to quit."""
        text = line.strip()
        if not text:
            return ""
        if text in ("/quit", "/exit", "/q"):
            return None
        if text.startswith("/role"):
            role = _ROLE_WORDS.get(text.removeprefix("/role").strip().lower())
            if role is None:
                return self.t.t("console.role_usage")
            self.person = Person(
                self.person.key, self.person.display_name, role, self.person.language
            )
            return self.t.t("console.role_set", audience=self.t.t(f"audience.{role.value}"))
        if text.isdigit() and self._pending:
            number = int(text)
            if not 1 <= number <= len(self._pending):
                return self.t.t("console.pick_unknown")
            entry = self.assistant.entry(self._pending[number - 1])
            self._pending = ()
            if entry is not None:
                self._shown = entry.id
                return render_answer(
                    entry,
                    self.assistant.knowledge.kb,
                    self.t,
                    self.office,
                    PLAIN,
                    audience=self.person.audience,
                )
        reply = await self.assistant.ask(
            self.person, text, channel="console", chat_id=self.person.key
        )
        if reply.outcome is Outcome.SUGGESTED:
            self._pending = tuple(e.id for e in reply.suggestions)
        else:
            self._pending = tuple(e.id for e in reply.also)
        return self.render(reply)

    async def run_lines(self, lines: Iterable[str], out: TextIO) -> None:
        """Scripted mode: one message per line in, each reply and a blank line out."""
        for line in lines:
            answer = await self.say(line)
            if answer is None:
                break
            if answer:
                out.write(answer + "\n\n")
                out.flush()

    async def run_interactive(
        self, prompt: Callable[[str], str], show: Callable[[str], None]
    ) -> None:
        """Terminal mode: prompt, answer, repeat until /quit or end of input."""
        show(self.t.t("console.welcome"))
        while True:
            try:
                line = prompt(self.t.t("console.prompt"))
            except (EOFError, KeyboardInterrupt):
                break
            answer = await self.say(line)
            if answer is None:
                break
            if answer:
                show(answer)
        show(self.t.t("console.bye"))
