"""What residents and staff both see of a proposal: status names, summaries, notifications."""

from __future__ import annotations

import logging

from bot import statuses
from bot.app import BotContext
from bot.i18n import N_, Translator, translator
from bot.store.proposals import Attachment, Proposal

log = logging.getLogger(__name__)

TEXT_MIN, TEXT_MAX = 10, 4000

ATTACHMENT_NAMES = {
    "photo": N_("photo"),
    "document": N_("document"),
    "voice": N_("voice message"),
    "location": N_("location"),
}


def status_name(tr: Translator, status: str) -> str:
    return tr.gettext(statuses.NAMES.get(status, status))


def resident_label(tr: Translator, resident_id: int) -> str:
    """Who a staff card names: the resident's Telegram id, or "anonymous" for a resident who was
    forgotten (their records stand under a placeholder with a negative id, meaningless to staff)."""
    return tr.gettext("anonymous") if resident_id < 0 else str(resident_id)


def theme_name(context: BotContext, slug: str, language: str | None = None) -> str:
    theme = context.municipality.theme(slug)
    return theme.name(language or context.language) if theme else slug


def attachments_summary(
    tr: Translator, attachments: list[Attachment] | tuple[Attachment, ...]
) -> str:
    """'2 × photo, 1 × location' in the reader's language, or an em dash."""
    counts: dict[str, int] = {}
    for attachment in attachments:
        counts[attachment.kind] = counts.get(attachment.kind, 0) + 1
    if not counts:
        return "—"
    return ", ".join(f"{n} × {tr.gettext(ATTACHMENT_NAMES[kind])}" for kind, n in counts.items())


async def notify_resident(
    context: BotContext, proposal: Proposal, key: str, text_for: str, **values: str
) -> None:
    """Queues a message to the resident about their proposal, in *their* language (not the
    staff member's), in the transaction of the change it reports. `text_for` is an untranslated
    msgid marked with N_; `key` names the change, so a replay cannot queue it twice. If the
    resident has blocked the bot, the sender tells the staff chat."""
    resident = await context.store.residents.resident(proposal.resident_id)
    tr = translator(resident.language if resident else proposal.language, context.settings.timezone)
    values = {"reference": proposal.reference, **values}
    if "status" in values:
        values["status"] = status_name(tr, values["status"])
    await context.store.outbox.enqueue(
        key,
        proposal.resident_id,
        "send_message",
        {"text": tr.gettext(text_for).format(**values)},
        purpose={"kind": "resident_notice", "reference": proposal.reference},
    )
