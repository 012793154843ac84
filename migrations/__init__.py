"""The schema migrations, shipped inside the wheel as the package `bot.migrations`.

Only the numbered `.sql` files are migrations; this file exists so that the folder can be found
through the import system (importlib.resources) in an installed or an editable package alike.
"""
