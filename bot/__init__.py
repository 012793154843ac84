"""liepaja-bot: the Liepāja development programme Telegram bot."""
