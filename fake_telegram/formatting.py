"""Rendering of formatted message text (parse_mode) to the plain text Telegram displays.

Telegram rejects malformed markup with ``400 Bad Request: can't parse entities: ...``; the
parsers below reproduce the rejections that matter in practice (unsupported HTML tags such as
``<br>``, unbalanced tags, a raw ``<``, unescaped MarkdownV2 reserved characters) so that a bot
which would fail against the real API also fails against the fake.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["EntityParseError", "render"]


class EntityParseError(ValueError):
    """Formatted text that Telegram would refuse to parse."""


def _byte_offset(text: str, index: int) -> int:
    # Telegram reports positions as UTF-8 byte offsets.
    return len(text[:index].encode("utf-8"))


def render(text: str, parse_mode: str | None) -> str:
    """Return the plain text of ``text`` as rendered under ``parse_mode`` (None = plain)."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        return _html_to_plain(text)
    if mode == "markdownv2":
        return _markdown_v2_to_plain(text)
    if mode == "markdown":
        return _markdown_to_plain(text)
    raise EntityParseError(f"Unsupported parse_mode {parse_mode!r}")


# --- HTML -----------------------------------------------------------------------------------

# https://core.telegram.org/bots/api#html-style
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _TelegramHTMLParser(HTMLParser):
    """html.parser subclass that enforces Telegram's (much smaller) HTML dialect."""

    def __init__(self, source: str) -> None:
        # convert_charrefs=False so that a raw "<" in data is distinguishable from "&lt;".
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.out: list[str] = []
        self.stack: list[str] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        return _byte_offset(self._source, self._line_starts[line - 1] + col)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
            )
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Self-closing tags (<br/>) do not exist in Telegram's dialect.
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {self._offset()}")
        open_tag = self.stack.pop()
        if open_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {self._offset()}, expected "</{open_tag}>", '
                f'found "</{tag}>"'
            )

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise EntityParseError(f'Unsupported start tag "" at byte offset {self._offset()}')
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        # Only four named entities are supported; others stay literal text.
        self.out.append(_HTML_NAMED_ENTITIES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            self.out.append(chr(code))
        except (ValueError, OverflowError):
            self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        raise EntityParseError(f'Unsupported start tag "!--" at byte offset {self._offset()}')

    def handle_decl(self, decl: str) -> None:
        raise EntityParseError(f'Unsupported start tag "!" at byte offset {self._offset()}')

    def handle_pi(self, data: str) -> None:
        raise EntityParseError(f'Unsupported start tag "?" at byte offset {self._offset()}')


def _html_to_plain(text: str) -> str:
    parser = _TelegramHTMLParser(text)
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
        )
    return "".join(parser.out)


# --- MarkdownV2 -----------------------------------------------------------------------------

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _markdown_v2_to_plain(text: str) -> str:
    out: list[str] = []
    stack: list[tuple[str, int]] = []  # (marker, byte offset where it was opened)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                out.append(text[i + 1])
                i += 2
                continue
            raise EntityParseError(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _find_unescaped(text, fence, i + len(fence))
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise EntityParseError(
                    f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}"
                )
            body = text[i + len(fence) : end]
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                if re.fullmatch(r"[\w+#-]*", first):  # a language tag, not content
                    body = rest
            out.append(_unescape(body))
            i = end + len(fence)
            continue
        marker: str | None = None
        if text.startswith("__", i):
            marker = "__"
        elif text.startswith("||", i):
            marker = "||"
        elif c in "*_~":
            marker = c
        if marker is not None:
            if stack and stack[-1][0] == marker:
                stack.pop()
            else:
                stack.append((marker, _byte_offset(text, i)))
            i += len(marker)
            continue
        if c == "[":
            stack.append(("[", _byte_offset(text, i)))
            i += 1
            continue
        if c == "]" and stack and stack[-1][0] == "[":
            stack.pop()
            if text.startswith("(", i + 1):
                end = _find_unescaped(text, ")", i + 2)
                if end < 0:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}"
                    )
                i = end + 1
            else:
                i += 1
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # block quotation marker
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(c)
        i += 1
    if stack:
        marker, offset = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[marker]} entity at byte offset {offset}"
        )
    return "".join(out)


# --- legacy Markdown ------------------------------------------------------------------------


def _markdown_to_plain(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if c in "*_`[":
            fence = "```" if text.startswith("```", i) else ("]" if c == "[" else c)
            start = i + (3 if fence == "```" else 1)
            end = text.find(fence, start)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[start:end])
            i = end + len(fence)
            if c == "[" and text.startswith("(", i):
                close = text.find(")", i)
                i = close + 1 if close >= 0 else n
            continue
        out.append(c)
        i += 1
    return "".join(out)
