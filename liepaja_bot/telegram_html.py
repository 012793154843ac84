"""Bot messages as safe HTML for the web demo's page.

The bot formats with Telegram's HTML parse mode. The page shows that formatting, but only
Telegram's own tags (https://core.telegram.org/bots/api#html-style) make it through, rebuilt
without their attributes (a link keeps an http(s) or mailto address); everything else is text,
escaped. Whatever a message holds, the page gets no markup of the message's choosing.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

__all__ = ["safe_html"]

# Telegram's tag -> the tag the page uses (None: the content only).
_TAGS: dict[str, str | None] = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "span",
    "span": "span",
    "tg-emoji": None,
    "a": "a",
}
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str | None] = []  # the page's tags, as opened (None: dropped)
        self.names: list[str] = []  # Telegram's tags, as opened

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            return
        page_tag = _TAGS[tag]
        if page_tag == "span":
            # Only a spoiler is a span in Telegram's dialect.
            self.out.append('<span class="spoiler">')
        elif page_tag == "a":
            href = dict(attrs).get("href") or ""
            if urlsplit(href).scheme.lower() in _LINK_SCHEMES:
                self.out.append(
                    f'<a href="{escape(href, quote=True)}" rel="noopener noreferrer" '
                    'target="_blank">'
                )
            else:  # tg://user?id=… and the like mean nothing here: the text stays
                page_tag = None
        elif page_tag is not None:
            self.out.append(f"<{page_tag}>")
        self.open.append(page_tag)
        self.names.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.names:
            return
        # Close everything opened since (Telegram's parser refuses mismatches anyway).
        while self.names:
            name = self.names.pop()
            page_tag = self.open.pop()
            if page_tag is not None:
                self.out.append(f"</{page_tag}>")
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))

    def close_all(self) -> str:
        self.close()
        while self.open:
            page_tag = self.open.pop()
            if page_tag is not None:
                self.out.append(f"</{page_tag}>")
        self.names.clear()
        return "".join(self.out)


def safe_html(raw: str | None, plain: str | None, parse_mode: str | None) -> str:
    """The page's HTML for a message's text or caption: ``raw`` as the bot sent it, ``plain``
    as Telegram shows it (used for any mode but HTML)."""
    if raw is not None and (parse_mode or "").lower() == "html":
        parser = _Sanitizer()
        parser.feed(raw)
        return parser.close_all()
    return escape(plain or "", quote=False)
