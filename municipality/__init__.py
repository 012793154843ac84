"""The municipality's content, shipped inside the wheel as the package `bot.municipality`.

This file exists so that the default content file can be found through the import system
(importlib.resources) in an installed or an editable package alike.
"""
