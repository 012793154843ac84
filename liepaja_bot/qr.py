"""`liepaja-bot qr -o FOLDER`: a printable QR code for each theme's deep link,
https://t.me/<bot>?start=<slug>, with the theme's name in Latvian under it — one PNG and one SVG
per theme. segno draws the code; it cannot write text, so the PNG is composed with Pillow (in
DejaVu Sans, which matplotlib ships: it has every Latvian letter) and the SVG gets a <text>
element beside segno's own drawing."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path
from xml.sax.saxutils import escape

import segno

from bot.content import Theme

USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
SCALE, BORDER = 12, 4  # pixels a module, quiet-zone modules: prints well at 5 cm and more
FONT_SIZE, LINE_HEIGHT, WRAP = 30, 38, 26


def deep_link(bot_username: str, slug: str) -> str:
    return f"https://t.me/{bot_username}?start={slug}"


def code_of(link: str) -> segno.QRCode:
    # Quartile error correction: a printed code still reads when scuffed or partly covered.
    return segno.make_qr(link, error="q", boost_error=False)


def _lines(name: str) -> list[str]:
    return textwrap.wrap(name, WRAP) or [name]


def png(link: str, name: str) -> bytes:
    from matplotlib import font_manager
    from PIL import Image, ImageDraw, ImageFont

    buffer = io.BytesIO()
    code_of(link).save(buffer, kind="png", scale=SCALE, border=BORDER)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    lines = _lines(name)
    canvas = Image.new("L", (code.width, code.height + LINE_HEIGHT * len(lines) + SCALE), 255)
    canvas.paste(code, (0, 0))
    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), FONT_SIZE)
    draw = ImageDraw.Draw(canvas)
    for n, line in enumerate(lines):
        # The text starts where the quiet zone ends: half a line under the code.
        y = code.height - BORDER * SCALE // 2 + n * LINE_HEIGHT
        draw.text((code.width / 2, y), line, fill=0, font=font, anchor="ma")
    output = io.BytesIO()
    canvas.save(output, format="PNG", optimize=True)
    return output.getvalue()


def svg(link: str, name: str) -> bytes:
    buffer = io.BytesIO()
    code = code_of(link)
    code.save(buffer, kind="svg", scale=SCALE, border=BORDER, xmldecl=False, svgclass=None)
    inner = buffer.getvalue().decode()
    width, height = code.symbol_size(scale=SCALE, border=BORDER)
    lines = _lines(name)
    total = height + LINE_HEIGHT * len(lines) + SCALE
    texts = "".join(
        f'<text x="{width / 2:g}" y="{height - BORDER * SCALE // 2 + FONT_SIZE + n * LINE_HEIGHT}"'
        f' text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif"'
        f' font-size="{FONT_SIZE}">{escape(line)}</text>'
        for n, line in enumerate(lines)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}"'
        f' viewBox="0 0 {width} {total}"><rect width="100%" height="100%" fill="#fff"/>'
        f"{inner}{texts}</svg>\n"
    ).encode()


def write_codes(folder: Path, bot_username: str, themes: tuple[Theme, ...]) -> list[Path]:
    """`<slug>.png` and `<slug>.svg` for every theme in `folder` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for theme in themes:
        link = deep_link(bot_username, theme.slug)
        name = theme.name("lv")
        for suffix, data in ((".png", png(link, name)), (".svg", svg(link, name))):
            path = folder / f"{theme.slug}{suffix}"
            path.write_bytes(data)
            written.append(path)
    return written
