"""The gettext catalogs, shipped inside the wheel as the package `bot.locales`.

This file exists so that the folder can be found through the import system (importlib.resources)
in an installed or an editable package alike; the catalogs themselves are the `.po` files.
"""
